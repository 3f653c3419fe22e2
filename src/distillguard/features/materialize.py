"""Run the account feature definition on DuckDB and expose it as the `account_features` view."""

from __future__ import annotations

import pyarrow as pa

from distillguard.features.sql import render
from distillguard.schema import ACCOUNT_SCHEMA, EXCHANGE_SCHEMA

# Columns the definition reads beyond the exchange contract; filled with NULL when the store
# was built without them (the features that depend on them come out NULL or neutral).
_SIGNAL_COLUMNS: dict[str, str] = {
    "template_id": "VARCHAR",
    "skeleton_hash": "VARCHAR",
    "system_hash": "VARCHAR",
    "capability": "VARCHAR",
    "cot_elicitation": "FLOAT",
    "rubric_grading": "FLOAT",
    "censorship_rewrite": "FLOAT",
    "prompt_chars": "INTEGER",
    "reasoning_requested": "BOOLEAN",
    "reasoning_level": "INTEGER",
}
_REQUIRED = ("exchange_id", "ts", "account_id")


def _duck_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE"
    return "VARCHAR"


def _columns(con, relation: str) -> set[str] | None:
    try:
        return {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}
    except Exception:  # the relation does not exist
        return None


def _padded(have: set[str], wanted: dict[str, str], relation: str) -> str:
    """A subquery over `relation` where every wanted column exists (missing ones are NULL)."""
    cols = [name if name in have else f"CAST(NULL AS {typ}) AS {name}" for name, typ in wanted.items()]
    return f"(SELECT {', '.join(cols)} FROM {relation})"


def materialize(con) -> pa.Table:
    """Compute one feature row per account from the `exchanges` (and `accounts`) views.

    Registers the result as the `account_features` view on `con` and returns it. Raises
    ValueError naming the columns when the `exchanges` view lacks account_id, ts or exchange_id.
    """
    have = _columns(con, "exchanges")
    if have is None:
        raise ValueError("account features need an `exchanges` view on the connection")
    missing = [c for c in _REQUIRED if c not in have]
    if missing:
        raise ValueError(f"the exchanges view lacks required column(s): {', '.join(missing)}")
    ex_wanted = {f.name: _duck_type(f.type) for f in EXCHANGE_SCHEMA} | _SIGNAL_COLUMNS
    exchanges = _padded(have, ex_wanted, "exchanges")
    acc_wanted = {f.name: _duck_type(f.type) for f in ACCOUNT_SCHEMA}
    acc_have = _columns(con, "accounts")
    if acc_have is not None:
        accounts = _padded(acc_have, acc_wanted, "accounts")
    else:  # exchanges alone: an empty accounts relation with the right columns
        nulls = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in acc_wanted.items())
        accounts = f"(SELECT {nulls} WHERE 1 = 0)"
    table = con.sql(render("duckdb", exchanges=exchanges, accounts=accounts)).to_arrow_table()
    # A main-schema view (not a bare registration) so that a later CREATE OR REPLACE VIEW from the
    # store's Parquet file replaces it instead of being shadowed by it.
    con.register("_dg_account_features_arrow", table)
    con.execute("CREATE OR REPLACE VIEW account_features AS SELECT * FROM _dg_account_features_arrow")
    return table
