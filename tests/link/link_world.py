"""Small hand-built worlds for the link stage: DuckDB views over Arrow tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from distillguard.schema import ACCOUNT_SCHEMA, TS

T0 = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)

EXCHANGE_COLUMNS = {
    "exchange_id": pa.string(),
    "ts": TS,
    "account_id": pa.string(),
    "client_ip": pa.string(),
    "user_agent": pa.string(),
    "api_key_id": pa.string(),
    "model": pa.string(),
    "template_id": pa.string(),
    "system_hash": pa.string(),
    "tool_schema_fp": pa.string(),
    "capability": pa.string(),
    "temperature": pa.float64(),
    "max_tokens": pa.int64(),
    "thinking_requested": pa.bool_(),
    "thinking_budget": pa.int64(),
    "input_tokens": pa.int64(),
    "output_tokens": pa.int64(),
    "tool_count": pa.int32(),
    "image_count": pa.int32(),
    "stream": pa.bool_(),
    "lsh_keys": pa.list_(pa.string()),
    "cot_elicitation": pa.float32(),
}


def exchange(account: str, minute: float, **cols: Any) -> dict[str, Any]:
    """One exchange row; columns not given are null."""
    return {"account_id": account, "ts": T0 + dt.timedelta(minutes=minute), **cols}


def random_ip(rng: np.random.Generator) -> str:
    return ".".join(str(int(x)) for x in rng.integers(1, 250, 4))


def connect(
    rows: list[dict[str, Any]], accounts: list[dict[str, Any]] | None = None, **types: pa.DataType
) -> Any:
    """A DuckDB connection with views `exchanges` (and `accounts` when given) over the rows;
    `types` overrides EXCHANGE_COLUMNS' column types (lsh_keys=pa.list_(pa.int64()), as stores
    hold them)."""
    columns = EXCHANGE_COLUMNS | types
    data = {name: [r.get(name) for r in rows] for name in columns}
    data["exchange_id"] = [r.get("exchange_id", f"x{i}") for i, r in enumerate(rows)]
    table = pa.table({name: pa.array(data[name], typ) for name, typ in columns.items()})
    con = duckdb.connect()
    con.register("exchanges", table)
    if accounts is not None:
        acc = {f.name: pa.array([a.get(f.name) for a in accounts], f.type) for f in ACCOUNT_SCHEMA}
        con.register("accounts", pa.table(acc, schema=ACCOUNT_SCHEMA))
    return con


def legit_population(
    rng: np.random.Generator, n: int = 60, per: int = 30, prefix: str = "legit"
) -> list[dict]:
    """Unrelated accounts: own IPs, python-requests, their own prompts, random times over a day."""
    rows = []
    for i in range(n):
        for j in range(per):
            rows.append(
                exchange(
                    f"{prefix}{i}",
                    float(rng.uniform(0, 1440)),
                    client_ip=random_ip(rng),
                    user_agent="python-requests/2.31.0",
                    template_id=f"{prefix}-own-{i}-{j}",
                    capability="chat",
                    model="m-1",
                    temperature=float(rng.choice([0.0, 0.7, 1.0])),
                    max_tokens=int(rng.choice([256, 1024, 4096])),
                )
            )
    return rows
