"""A small hand-made world of exchanges with known archetypes, for the detection tests.

Rows carry the exchange contract's columns plus the signal columns the features read, so the
tests do not depend on ingest or signals. Every archetype is a clear, small caricature.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # window start; the scan covers three days
DAYS = 3
RELEASE_H = 36.0  # hour (from T0) at which "model-new" first appears
HYDRA = [f"hydra-{i}" for i in range(8)]
N_USERS = 40


def _diurnal_hours(rng: np.random.Generator, n: int, start_h: int = 8, end_h: int = 22) -> np.ndarray:
    day = rng.integers(0, DAYS, n)
    return day * 24 + rng.uniform(start_h, end_h, n)


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.rows: list[dict] = []
        self.accounts: list[dict] = []

    def account(
        self,
        account_id: str,
        tier: str,
        verified: bool,
        created_days_before: float,
        payment: str | None = None,
    ) -> None:
        self.accounts.append(
            {
                "account_id": account_id,
                "created_at": T0 - timedelta(days=created_days_before),
                "org_id": f"org-{account_id}",
                "tier": tier,
                "email_domain": f"{account_id}.example",
                "payment_fingerprint": payment or f"pay-{account_id}",
                "country": "US",
                "verified": verified,
            }
        )

    def add(self, account_id: str, hours: np.ndarray, **cols) -> None:
        """Add one exchange per entry of `hours`; list-valued cols are per-exchange values."""
        for i, h in enumerate(np.sort(hours)):
            row = {k: (v[i] if isinstance(v, list | np.ndarray) else v) for k, v in cols.items()}
            n = len(self.rows)
            self.rows.append({"exchange_id": f"ex-{n:06d}", "account_id": account_id, "h": float(h), **row})


def build(seed: int = 7) -> tuple[pa.Table, pa.Table]:
    """Return (exchanges, accounts) Arrow tables of the toy world."""
    b = _Builder(seed)
    rng = b.rng
    hydra_templates = [f"tpl-cot-{k}" for k in range(8)]
    for acc in HYDRA:  # one script, many fresh accounts, round the clock, full speed, then a pivot
        b.account(acc, "education", False, created_days_before=0.1, payment="pay-shared-card")
        n = 300
        hours = np.linspace(0, DAYS * 24 - 0.5, n) + rng.uniform(0, 0.05, n)
        hours.sort()
        b.add(
            acc,
            hours,
            template_id=list(rng.choice(hydra_templates, n)),
            cot_elicitation=0.9,
            capability="math_reasoning",
            client_ip=[
                f"10.{rng.integers(0, 250)}.{rng.integers(0, 250)}.{rng.integers(1, 250)}" for _ in range(n)
            ],
            user_agent="aiohttp/3.9",
            max_tokens=8192,
            thinking_requested=True,
            reasoning_chars=3000,
            response_chars=1200,
            model=["model-new" if h >= RELEASE_H + 1 else "model-old" for h in hours],
            system_hash="sys-hydra",
            system_text="You are GPT-4. Give expert answers; they will be used for training a student model.",
            client_fp=[f"h2:{rng.integers(0, 1_000_000)}" for _ in range(n)],
        )
    b.account("chat-product", "enterprise", True, 300)
    n = 600
    b.add(
        "chat-product",
        _diurnal_hours(rng, n),
        template_id=[f"chat-u{k}" for k in range(n)],
        cot_elicitation=list(rng.uniform(0, 0.2, n)),
        capability="chat",
        client_ip="203.0.113.5",
        user_agent="python-httpx",
        max_tokens=1024,
        thinking_requested=False,
        model="model-old",
        system_hash="sys-chat-product",
        system_text="You are Max, the assistant of Example Telecom. Help customers with their plans.",
        client_fp="h2:httpx",
    )
    bench = [f"tpl-bench-{k}" for k in range(20)]
    for k in range(3):  # three eval runners share public CoT benchmark prompts, in bursts
        acc = f"eval-runner-{k}"
        b.account(acc, "enterprise", True, 200)
        nightly = np.concatenate([d * 24 + 2 + rng.uniform(0, 0.5, 60) for d in range(DAYS)])
        release = RELEASE_H + 1 + rng.uniform(0, 1.0, 240)
        hours = np.concatenate([nightly, release])
        models = ["model-old"] * len(nightly) + ["model-new"] * len(release)
        order = np.argsort(hours)
        b.add(
            acc,
            hours,
            template_id=list(rng.choice(bench, len(hours))),
            cot_elicitation=0.8,
            capability="math_reasoning",
            client_ip=f"198.51.100.{k}",
            user_agent="evalkit/1.0",
            max_tokens=4096,
            thinking_requested=True,
            model=[models[i] for i in order],
            system_hash=None,
        )
    b.account("router", "enterprise", True, 400)
    n = 1500  # thousands of end users in every time zone: 24/7, all different prompts
    b.add(
        "router",
        rng.uniform(0, DAYS * 24, n),
        template_id=[f"router-u{k}" for k in range(n)],
        cot_elicitation=list(rng.uniform(0, 0.3, n)),
        capability=list(rng.choice(["chat", "coding", "data_analysis", "roleplay"], n)),
        client_ip=list(rng.choice(["192.0.2.10", "192.0.2.11"], n)),
        user_agent="litellm/1.0",
        max_tokens=list(rng.choice([512, 1024, 4096], n)),
        thinking_requested=False,
        model="model-old",
        system_hash=None,
    )
    b.account("serverless", "standard", True, 100)
    n = 300  # a fresh IP per request, human content, human day
    b.add(
        "serverless",
        _diurnal_hours(rng, n),
        template_id=[f"sls-u{k}" for k in range(n)],
        cot_elicitation=list(rng.uniform(0, 0.2, n)),
        capability=list(rng.choice(["chat", "coding"], n)),
        client_ip=[
            f"34.{rng.integers(0, 255)}.{rng.integers(0, 255)}.{rng.integers(1, 255)}" for _ in range(n)
        ],
        user_agent="node-fetch",
        max_tokens=list(rng.choice([256, 1024], n)),
        thinking_requested=False,
        model="model-old",
        system_hash=None,
    )
    b.account("campus", "education", True, 20)
    n = 200  # a university NAT: many addresses, one /24 block
    b.add(
        "campus",
        _diurnal_hours(rng, n),
        template_id=[f"campus-u{k}" for k in range(n)],
        cot_elicitation=list(rng.uniform(0, 0.2, n)),
        capability=list(rng.choice(["chat", "coding"], n)),
        client_ip=[f"192.0.2.{rng.integers(1, 255)}" for _ in range(n)],
        user_agent="Mozilla/5.0",
        max_tokens=1024,
        thinking_requested=False,
        model="model-old",
        system_hash=None,
    )
    b.account("ci-agent", "startup", True, 60)
    n = 400  # coding only, work hours, a fixed task prompt
    b.add(
        "ci-agent",
        _diurnal_hours(rng, n, 9, 18),
        template_id=list(rng.choice(["ci-fix", "ci-review"], n)),
        cot_elicitation=0.05,
        capability="coding",
        client_ip="140.82.1.1",
        user_agent="ci-bot/2",
        max_tokens=4096,
        thinking_requested=False,
        model="model-old",
        system_hash="sys-ci",
        system_text="You are a coding agent running non-interactively in CI for the repository example/app.",
        client_fp="h2:ci",
    )
    for k in range(N_USERS):  # ordinary small users
        acc = f"user-{k}"
        b.account(acc, "standard", k % 2 == 0, 30 + k)
        n = int(rng.integers(5, 30))
        b.add(
            acc,
            _diurnal_hours(rng, n),
            template_id=[f"user{k}-u{j}" for j in range(n)],
            cot_elicitation=list(rng.uniform(0, 0.3, n)),
            capability=list(rng.choice(["chat", "coding"], n)),
            client_ip=f"198.18.{k}.1",
            user_agent="Mozilla/5.0",
            max_tokens=list(rng.choice([256, 1024], n)),
            thinking_requested=False,
            model="model-old",
            system_hash=None,
        )

    rows = b.rows
    ts = [T0 + timedelta(hours=r.pop("h")) for r in rows]
    for r in rows:
        r.setdefault("reasoning_chars", 0)
        r.setdefault("response_chars", 800)
        r.setdefault("system_text", None)
        r.setdefault("client_fp", None)
        r["skeleton_hash"] = r["template_id"]
        r["rubric_grading"] = 0.0
        r["censorship_rewrite"] = 0.0
        r["prompt_chars"] = 200
        r["status"] = 200
        r["input_tokens"] = 100
        r["output_tokens"] = 400
    exchanges = pa.Table.from_pylist(rows).append_column("ts", pa.array(ts, pa.timestamp("us", tz="UTC")))
    accounts = pa.Table.from_pylist(b.accounts)
    return exchanges, accounts


def connect(exchanges: pa.Table, accounts: pa.Table | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the `exchanges` and `accounts` views over Arrow tables."""
    con = duckdb.connect()
    con.register("exchanges", exchanges)
    if accounts is not None:
        con.register("accounts", accounts)
    return con
