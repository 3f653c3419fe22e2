"""A small, realistic scan output directory, written to the scan-directory contract.

Two flagged hydra clusters (one reasoning harvester pivoting to a newer model half-way, one
tool-use harvester whose prompts and ids carry HTML/JS payloads), two legitimate heavy users
(a CI coding agent, a nightly eval suite) that were scored but cleared, an office pair linked
by a shared IP but not flagged, and a few ordinary users.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.schema import ACCOUNT_SCHEMA, EXCHANGE_SCHEMA

START = datetime(2026, 3, 2, tzinfo=UTC)
XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
EVIL_ACCOUNT = 'tool-03"><svg onload=window.__pwned=3>'
OLD_MODEL, NEW_MODEL = "frontier-4", "frontier-5"

HYDRA = [f"hydra-{i:02d}" for i in range(1, 7)]
TOOLERS = ["tool-01", "tool-02", EVIL_ACCOUNT]
OFFICE = ["office-a", "office-b"]
NORMAL = ["user-01", "user-02", "user-03"]

TEMPLATES = {
    "tpl-cot": (
        "sk-cot-1",
        "Solve the problem below, then write out every step of the reasoning you used "
        "to reach the answer, in full: {x}",
        "math_reasoning",
    ),
    "tpl-rubric": (
        "sk-rubric-1",
        "Act as a reward model. Grade the response below from 1 to 10 against this rubric: {x}",
        "chat",
    ),
    "tpl-tool": (
        "sk-tool-1",
        "Call the tools to finish the task and show each call. " + XSS + " {x}",
        "tool_use",
    ),
    "tpl-ci": ("sk-ci-1", "Fix the failing test in this diff: {x}", "coding"),
    "tpl-eval": ("sk-eval-1", "Question {x}. Answer with a single letter.", "math_reasoning"),
}
CAPS = ("coding", "tool_use", "math_reasoning", "data_analysis", "vision", "chat", "roleplay")


def _row(
    rng: random.Random, n: int, account: str, ts: datetime, template: str, model: str, ip: str, ua: str
) -> dict:
    skeleton, text, capability = TEMPLATES[template]
    row = {f.name: None for f in EXCHANGE_SCHEMA}
    row.update(
        exchange_id=f"ex-{n:06d}",
        content_hash=f"h{n}",
        source="fixture.jsonl",
        line=n,
        ts=ts,
        account_id=account,
        api_key_id=f"key-{account}",
        client_ip=ip,
        user_agent=ua,
        flavor="anthropic_messages",
        model=model,
        user_text=text.format(x=rng.randint(1, 10_000)),
        turns=1,
        tool_count=3 if capability == "tool_use" else 0,
        tool_result_count=0,
        image_count=0,
        thinking_requested=template == "tpl-cot",
        stream=False,
        response_chars=900,
        reasoning_chars=2000 if template == "tpl-cot" else 0,
        response_tool_calls=0,
        input_tokens=120,
        output_tokens=600,
        reasoning_tokens=0,
        status=200,
        latency_ms=800.0,
        skeleton_hash=skeleton,
        lsh_keys=[f"b0:{skeleton}"],
        system_hash=None,
        cot_elicitation=0.9 if template == "tpl-cot" else 0.05,
        rubric_grading=0.9 if template == "tpl-rubric" else 0.0,
        censorship_rewrite=0.0,
        capability=capability,
        prompt_chars=len(text),
        template_id=template,
    )
    for cap in CAPS:
        row[f"cap_{cap}"] = cap == capability
    return row


def _exchanges(rng: random.Random) -> list[dict]:
    rows: list[dict] = []

    def add(account: str, ts: datetime, template: str, model: str, ip: str, ua: str) -> None:
        rows.append(_row(rng, len(rows) + 1, account, ts, template, model, ip, ua))

    for i, acct in enumerate(HYDRA):  # 24/7, pivots to the new model after hour 30
        for k in range(60):
            ts = START + timedelta(minutes=48 * k + 7 * i)
            model = NEW_MODEL if ts >= START + timedelta(hours=30) and k % 10 < 8 else OLD_MODEL
            add(
                acct,
                ts,
                "tpl-cot" if k % 3 else "tpl-rubric",
                model,
                f"203.0.113.{10 + i}",
                "python-httpx/0.27.0",
            )
    for i, acct in enumerate(TOOLERS):
        for k in range(40):
            add(
                acct,
                START + timedelta(minutes=70 * k + i),
                "tpl-tool",
                OLD_MODEL,
                f"198.51.100.{i + 1}",
                "node-fetch/3.3",
            )
    for day in range(2):  # CI agent: office hours, heavy
        for k in range(200):
            ts = START + timedelta(days=day, hours=9 + (k % 9), minutes=k % 60)
            add("ci-agent-acme", ts, "tpl-ci", OLD_MODEL, "192.0.2.5", "acme-ci/1.0")
        for k in range(150):  # eval suite: one nightly burst
            add(
                "evalsuite-lab",
                START + timedelta(days=day, hours=2, seconds=20 * k),
                "tpl-eval",
                NEW_MODEL,
                "192.0.2.77",
                "lab-evals/2.1",
            )
    for acct in OFFICE + NORMAL:
        for k in range(rng.randint(5, 12)):
            ts = START + timedelta(
                days=rng.randint(0, 1), hours=rng.randint(8, 20), minutes=rng.randint(0, 59)
            )
            ip = "192.0.2.200" if acct in OFFICE else f"192.0.2.{rng.randint(100, 150)}"
            ua = (
                "Mozilla/5.0" if acct in OFFICE else "python-httpx/0.27.0"
            )  # a common SDK, also used by the hydra
            add(acct, ts, "tpl-ci" if k % 2 else "tpl-eval", OLD_MODEL, ip, ua)
    return rows


def _account_meta() -> list[dict]:
    metas = []
    for acct in HYDRA:
        metas.append(
            dict(
                account_id=acct,
                created_at=START - timedelta(hours=1),
                org_id=None,
                tier="education",
                email_domain="mailbox-relay.example",
                payment_fingerprint="pm-shared-77",
                country="ZZ",
                verified=False,
            )
        )
    for n, acct in enumerate(TOOLERS):
        metas.append(
            dict(
                account_id=acct,
                created_at=START - timedelta(days=1),
                org_id=None,
                tier="startup",
                email_domain="quickmail.example",
                payment_fingerprint=f"pm-tool-{n}",
                country="ZZ",
                verified=False,
            )
        )
    for acct in ["ci-agent-acme", "evalsuite-lab", *OFFICE, *NORMAL]:
        metas.append(
            dict(
                account_id=acct,
                created_at=START - timedelta(days=400),
                org_id="org-" + acct,
                tier="enterprise",
                email_domain=f"{acct}.example",
                payment_fingerprint=f"pm-{acct}",
                country="DE",
                verified=True,
            )
        )
    return metas


def _edges() -> list[dict]:
    edges = []
    for a, b in itertools.pairwise(HYDRA):
        edges.append(
            dict(
                src=a,
                dst=b,
                kind="shared_payment",
                weight=1.0,
                evidence=json.dumps({"payment_fingerprint": "pm-shared-77"}),
            )
        )
        edges.append(
            dict(
                src=a,
                dst=b,
                kind="shared_ip_prefix",
                weight=0.8,
                evidence=json.dumps({"prefix": "203.0.113.0/24", "exchanges": 120}),
            )
        )
    for a, b in itertools.pairwise(TOOLERS):
        edges.append(
            dict(
                src=a,
                dst=b,
                kind="shared_template",
                weight=0.9,
                evidence=json.dumps({"template_id": "tpl-tool", "note": XSS}),
            )
        )
    edges.append(
        dict(
            src="office-a",
            dst="office-b",
            kind="shared_ip",
            weight=0.3,
            evidence=json.dumps({"ip": "192.0.2.200"}),
        )
    )
    return edges


def _findings() -> list[dict]:
    out = [
        dict(
            detector="coordination",
            subject_kind="cluster",
            subject_id="C-001",
            score=0.93,
            severity="high",
            explanation="Six accounts share a payment method, one /24 and two templates.",
            evidence={
                "linked_accounts": HYDRA,
                "edge_kinds": {"shared_payment": 5, "shared_ip_prefix": 5},
                "density": 0.91,
            },
        ),
        dict(
            detector="coordination",
            subject_kind="cluster",
            subject_id="C-002",
            score=0.81,
            severity="high",
            explanation="Three accounts run one tool-use template in lockstep " + XSS,
            evidence={"linked_accounts": TOOLERS, "template": XSS},
        ),
        dict(
            detector="coordination",
            subject_kind="cluster",
            subject_id="C-003",
            score=0.12,
            severity="info",
            explanation="Two accounts share an office IP.",
            evidence={"linked_accounts": OFFICE},
        ),
    ]
    for acct in HYDRA:
        out.append(
            dict(
                detector="cot-harvest",
                subject_kind="account",
                subject_id=acct,
                score=0.88,
                severity="high",
                explanation="Two thirds of requests ask for written-out reasoning.",
                evidence={"cot_share": 0.67, "exchanges": 60, "top_template": "tpl-cot"},
            )
        )
    for acct in TOOLERS:
        out.append(
            dict(
                detector="template-concentration",
                subject_kind="account",
                subject_id=acct,
                score=0.79,
                severity="medium",
                explanation="All requests use one template.",
                evidence={"top_template_share": 1.0, "sample": XSS},
            )
        )
    out.append(
        dict(
            detector="template-concentration",
            subject_kind="account",
            subject_id="ci-agent-acme",
            score=0.31,
            severity="low",
            explanation="One template dominates, but with office-hours "
            "cadence, a verified org and a ramp, the pattern of a CI coding agent.",
            evidence={"top_template_share": 0.96, "legit_pattern": "ci-agent"},
        )
    )
    out.append(
        dict(
            detector="burst-cadence",
            subject_kind="account",
            subject_id="evalsuite-lab",
            score=0.22,
            severity="low",
            explanation="Nightly burst at a fixed hour: an evaluation suite.",
            evidence={"burst_hour_utc": 2, "legit_pattern": "eval-suite"},
        )
    )
    return out


def build_scan_dir(out: Path, seed: int = 7) -> Path:
    """Write the fixture scan directory into `out` and return it."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "store" / "exchanges").mkdir(parents=True, exist_ok=True)
    rows = _exchanges(rng)
    ex = pd.DataFrame(rows)
    table = pa.Table.from_pandas(ex.drop(columns=["template_id"]), preserve_index=False)
    pq.write_table(table, out / "store" / "exchanges" / "part-0000.parquet")
    pq.write_table(
        pa.Table.from_pandas(ex[["exchange_id", "template_id"]], preserve_index=False),
        out / "store" / "templates.parquet",
    )
    pq.write_table(
        pa.Table.from_pylist(_account_meta(), schema=ACCOUNT_SCHEMA), out / "store" / "accounts.parquet"
    )
    pq.write_table(pa.Table.from_pylist(_edges()), out / "store" / "edges.parquet")

    cluster_of = {a: "C-001" for a in HYDRA} | {a: "C-002" for a in TOOLERS} | {a: "C-003" for a in OFFICE}
    risk = (
        {a: 0.93 for a in HYDRA} | {a: 0.81 for a in TOOLERS} | {"ci-agent-acme": 0.31, "evalsuite-lab": 0.22}
    )
    counts = ex.groupby("account_id").size()
    accounts = pd.DataFrame(
        [
            dict(
                account_id=a,
                risk=risk.get(a, 0.02),
                flagged=risk.get(a, 0) >= 0.5,
                cluster_id=cluster_of.get(a, ""),
                exchanges=int(n),
                reasons="chain-of-thought harvest; shared payment"
                if a in HYDRA
                else ("one tool-use template " + XSS if a in TOOLERS else ""),
            )
            for a, n in counts.items()
        ]
    ).sort_values("risk", ascending=False)
    accounts.to_csv(out / "accounts.csv", index=False)
    clusters = pd.DataFrame(
        [
            dict(
                cluster_id="C-001",
                accounts=6,
                exchanges=360,
                risk=0.93,
                flagged=True,
                capabilities="math_reasoning,chat",
                reasons="coordinated reasoning harvest",
            ),
            dict(
                cluster_id="C-002",
                accounts=3,
                exchanges=120,
                risk=0.81,
                flagged=True,
                capabilities="tool_use",
                reasons="tool-use template in lockstep",
            ),
            dict(
                cluster_id="C-003",
                accounts=2,
                exchanges=int(counts[OFFICE].sum()),
                risk=0.12,
                flagged=False,
                capabilities="coding",
                reasons="shared office IP",
            ),
        ]
    )
    clusters.to_csv(out / "clusters.csv", index=False)
    with (out / "findings.jsonl").open("w", encoding="utf-8") as fh:
        for f in _findings():
            fh.write(json.dumps(f) + "\n")
    summary = dict(
        input_records=len(rows) + 2,
        exchanges=len(rows),
        rejected=2,
        duplicates=0,
        accounts=len(accounts),
        flagged_accounts=int(accounts.flagged.sum()),
        clusters=3,
        threshold=0.5,
        engine="duckdb",
        version="0.1.0",
        started="2026-03-04T10:00:00Z",
        finished="2026-03-04T10:00:09Z",
        timings={"ingest": 3.1, "link": 1.2},
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "rejects.jsonl").write_text("", encoding="utf-8")
    return out
