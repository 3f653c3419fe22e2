"""A small exchange log for scan tests: ordinary accounts plus a few lockstep look-alikes.

Named uniquely (not `builders.py`) because test folders are not packages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

START = datetime(2026, 3, 1, tzinfo=UTC)
QUESTIONS = [
    "How do I sort a list in Python?",
    "What is a monad?",
    "Plan a trip to Lisbon.",
    "Fix my SQL join.",
]


def exchange(i: int, account: str, prompt: str, minute: float, ip: str) -> dict:
    return {
        "id": f"ex-{i}",
        "ts": (START + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z"),
        "account_id": account,
        "api_key_id": f"key-{account}",
        "client_ip": ip,
        "user_agent": "python-httpx/0.28",
        "request": {
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "messages": [{"role": "user", "content": prompt}],
        },
        "response": {
            "type": "message",
            "content": [{"type": "thinking", "thinking": "step one"}, {"type": "text", "text": "answer"}],
            "usage": {"input_tokens": 20, "output_tokens": 40},
        },
        "status": 200,
        "latency_ms": 900.0,
    }


def write_log(path: Path, extra_lines: list[bytes] | None = None) -> Path:
    """120 exchanges from 10 accounts; accounts h0-h3 send one templated prompt in lockstep."""
    lines: list[bytes] = []
    i = 0
    for a in range(6):
        for k in range(10):
            lines.append(
                orjson.dumps(
                    exchange(i, f"user-{a}", QUESTIONS[(a + k) % 4], a * 37 + k * 53.0, f"198.51.{a}.9")
                )
            )
            i += 1
    for a in range(4):
        for k in range(15):
            prompt = f"Solve problem {k}. Write out your full step-by-step reasoning before the final answer."
            lines.append(orjson.dumps(exchange(i, f"h{a}", prompt, k * 5.0 + a * 0.01, f"203.0.113.{a}")))
            i += 1
    lines += extra_lines or []
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path
