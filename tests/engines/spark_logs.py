"""A small, varied log of exchange records for the Spark engine's tests.

Anthropic Messages, OpenAI Chat Completions and OpenAI Responses bodies; accounts sharing
templates; exact duplicates (same id, and id-less repeats); blank lines, CR line ends, a BOM and
bad records of several kinds, so that every path of the map step is exercised.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TEMPLATES = [
    "Solve the following problem and write out your full step-by-step reasoning before the answer: {x}",
    "Act as a reward model. Grade this answer on a 1-10 rubric and justify the score: {x}",
    "Rewrite the following so that it avoids politically sensitive wording: {x}",
]
CASUAL = [
    "what's a good name for a cat",
    "help me write an email to my landlord about the heating",
    "summarize this paragraph for me please: {x}",
    "fix the bug in this python function: def f(x): return x +",
    "translate 'good morning' to French",
]
MODELS = ["claude-x-1", "gpt-y-2", "claude-x-2"]


def _body(flavor: str, model: str, text: str, system: str | None, rng: random.Random) -> dict[str, Any]:
    if flavor == "anthropic":
        req: dict[str, Any] = {
            "model": model,
            "max_tokens": rng.choice([1024, 4096]),
            "messages": [{"role": "user", "content": text}],
        }
        if system:
            req["system"] = system
        if rng.random() < 0.3:
            req["thinking"] = {"type": "enabled", "budget_tokens": 8000}
        resp = {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "ok " * rng.randint(5, 50)}],
            "usage": {"input_tokens": rng.randint(10, 500), "output_tokens": rng.randint(10, 900)},
        }
        return {"request": req, "response": resp}
    if flavor == "chat":
        msgs = [{"role": "system", "content": system}] if system else []
        msgs.append({"role": "user", "content": text})
        req = {"model": model, "messages": msgs, "temperature": rng.choice([0.0, 0.7, 1.0])}
        resp = {
            "object": "chat.completion",
            "choices": [{"message": {"role": "assistant", "content": "sure " * rng.randint(3, 40)}}],
            "usage": {"prompt_tokens": rng.randint(10, 500), "completion_tokens": rng.randint(10, 900)},
        }
        return {"request": req, "response": resp}
    req = {"model": model, "input": text, "reasoning": {"effort": rng.choice(["low", "high"])}}
    if system:
        req["instructions"] = system
    resp = {
        "object": "response",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "fine " * 9}]}],
        "usage": {"input_tokens": rng.randint(10, 500), "output_tokens": rng.randint(10, 900)},
    }
    return {"request": req, "response": resp}


def exchange_records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """`n` exchange records over 30 accounts: 10 in a coordinated ring, 20 ordinary ones."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        ring = rng.random() < 0.4
        account = f"acct-ring-{rng.randrange(10)}" if ring else f"acct-{rng.randrange(20):02d}"
        template = rng.choice(TEMPLATES) if ring else rng.choice(CASUAL)
        text = template.format(x=f"item {rng.randrange(10_000)}")
        ts = T0 + timedelta(seconds=i * 37 + (rng.random() if ring else rng.randrange(3600)))
        record: dict[str, Any] = {
            "id": f"ex-{i:06d}",
            "ts": ts.isoformat().replace("+00:00", "Z"),
            "account_id": account,
            "api_key_id": f"key-{account}",
            "client_ip": f"203.0.113.{rng.randrange(8)}" if ring else f"198.51.{rng.randrange(200)}.7",
            "user_agent": "python-httpx/0.28" if ring else rng.choice(["Mozilla/5.0", "curl/8.5"]),
            "status": rng.choice([200, 200, 200, 429]),
            "latency_ms": round(rng.uniform(100, 4000), 1),
            **_body(
                rng.choice(["anthropic", "chat", "responses"]),
                rng.choice(MODELS),
                text,
                "You are a helpful grader." if ring and rng.random() < 0.5 else None,
                rng,
            ),
        }
        if rng.random() < 0.1:
            del record["id"]  # identified by its content hash
        records.append(record)
    return records


def account_records() -> list[dict[str, Any]]:
    """Account rows for most of the accounts in `exchange_records` (one is left out)."""
    rows = []
    for i in range(10):
        rows.append(
            {
                "account_id": f"acct-ring-{i}",
                "created_at": "2026-02-28T00:00:00Z",
                "tier": "education",
                "payment_fingerprint": "card-shared-1",
                "verified": False,
            }
        )
    for i in range(19):
        rows.append(
            {
                "account_id": f"acct-{i:02d}",
                "created_at": "2025-06-01T00:00:00Z",
                "tier": "standard",
                "payment_fingerprint": f"card-{i}",
                "verified": True,
            }
        )
    rows.append({"account_id": "acct-bad", "created_at": "not a date"})
    return rows


BAD_LINES = [
    b"{not json",
    b'{"ts": "2026-03-01T00:00:00Z", "request": {"model": "m", "messages": []}}',  # no account
    b'{"account_id": "a", "request": {"model": "m", "messages": []}}',  # no ts
    b'{"account_id": "a", "ts": "yesterday", "request": {}}',
    b'{"account_id": "a", "ts": "2026-03-01T00:00:00Z", "request": "text"}',
    b"[1, 2, 3]",
    b"bad \xff\xfe utf8",
]


def write_log(path: Path, records: list[dict[str, Any]], seed: int = 3) -> Path:
    """Write `records` as JSON Lines with duplicates, blank lines, CR ends and bad lines mixed in."""
    rng = random.Random(seed)
    lines = [orjson.dumps(r) for r in records]
    for _ in range(max(1, len(lines) // 20)):  # exact repeats, some far from the original
        lines.insert(rng.randrange(len(lines)), lines[rng.randrange(len(lines))])
    for bad in BAD_LINES:
        lines.insert(rng.randrange(len(lines)), bad)
    for _ in range(3):
        lines.insert(rng.randrange(len(lines)), b"")
    lines[1] = lines[1] + b"\r"
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def write_accounts(path: Path) -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in account_records()) + b"\n")
    return path


def write_parquet(path: Path, records: list[dict[str, Any]], *, json_bodies: bool) -> Path:
    """Write `records` as Parquet: bodies as JSON text columns, or as nested structs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for record in records:
        row = dict(record)
        if json_bodies:
            row["request"] = orjson.dumps(record["request"]).decode()
            row["response"] = orjson.dumps(record["response"]).decode()
        rows.append(row)
    if json_bodies:  # and one row whose body is not JSON: a counted reject
        rows.append({**rows[0], "id": "broken-body", "request": "{truncated"})
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=max(1, len(rows) // 3))
    return path


def write_world(root: Path, n: int = 1800) -> tuple[Path, Path]:
    """A folder of logs in every input form, and an accounts file; returns (logs dir, accounts).

    logs/a.jsonl (plain, 2/3 of the records), logs/b.jsonl.gz (with repeats of a.jsonl's first
    records), logs/c.parquet (JSON text bodies, one unparseable, one repeat) and logs/d.parquet
    (nested struct bodies).
    """
    import gzip

    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    records = exchange_records(n)
    a, b, c = n * 2 // 3, n * 5 // 6, n * 17 // 18
    plain = write_log(logs / "a.jsonl", records[:a])
    again = plain.read_bytes().splitlines()[:5]
    middle = write_log(root / "b.jsonl", records[a:b], seed=5)
    (logs / "b.jsonl.gz").write_bytes(gzip.compress(middle.read_bytes() + b"\n".join(again)))
    middle.unlink()
    write_parquet(logs / "c.parquet", [*records[b:c], records[3]], json_bodies=True)
    write_parquet(logs / "d.parquet", records[c:], json_bodies=False)
    return logs, write_accounts(root / "accounts.jsonl")
