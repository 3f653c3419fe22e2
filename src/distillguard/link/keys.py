"""Shared keys: the account × key incidence every shared-evidence edge family is built on.

An edge family declares `KeySpec`s — SQL over the `exchanges` / `accounts` views returning
(account_id, key, n). A key is anything two accounts can have in common: an IP in a time window,
a payment fingerprint, a template. `build_keys` puts them all in one table with

- `tf`: the share of the account's exchanges that carry the key (1 for account-level keys), so a
  template that is one request out of ten thousand weighs little for that account;
- `df`: how many accounts hold the key, and `idf = (ln(N/df) / ln(N/2) - f) / (1 - f)` clipped to
  [0, 1] with f = IDF_FLOOR, so a key held by two accounts weighs 1 and one held by most accounts
  (python-requests, a cloud NAT in a small scan) weighs 0;
- `r`: the account's rank in one global account order, used by blocking (see `pairs.py`).
- `kid`: a number per (kind, key), so that blocking and scoring join on integers.
Keys held by one account only are dropped: they cannot link anybody.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Which family each kind of key belongs to; "weak evidence from several families" is the rule.
FAMILY_OF: dict[str, str] = {
    "payment": "infrastructure",
    "api_key": "infrastructure",
    "ip": "infrastructure",
    "subnet": "infrastructure",
    "user_agent": "infrastructure",
    "client_fp": "infrastructure",
    "creation_burst": "infrastructure",
    "email_domain": "infrastructure",
    "template": "content",
    "paraphrase": "content",
    "system_prompt": "content",
    "tool_schema": "content",
    "lockstep": "timing",
    "cadence": "timing",
    "fingerprint": "behaviour",
}

# Kinds that restate one piece of evidence count once when agreement is counted: a shared IP
# always comes with a shared subnet, a shared client fingerprint usually with a shared user agent,
# paraphrase bands and templates are two views of the same prompts.
EVIDENCE_OF: dict[str, str] = {kind: kind for kind in FAMILY_OF} | {
    "subnet": "ip",
    "client_fp": "user_agent",
    "paraphrase": "template",
}
EVIDENCE: tuple[str, ...] = tuple(dict.fromkeys(EVIDENCE_OF.values()))

# Evidence only a common operator produces: the same payment method, network, client, account
# creation burst or machine cadence. Independent customers share content and timing (a public
# benchmark run on release day) but not these, so a weak link needs some of this evidence.
IDENTITY_KINDS: frozenset[str] = frozenset(k for k, f in FAMILY_OF.items() if f == "infrastructure") | {
    "cadence"
}

IDF_FLOOR = 0.1  # a key held by more than about N^0.9 accounts says nothing about any pair

ACCT = "_dg_link_acct"
EX = "_dg_link_ex"
KEYS = "_dg_link_keys"

# The exchange columns linkage reads; a missing one becomes NULL (and its edge kinds stay empty).
EX_COLUMNS: dict[str, str] = {
    "client_ip": "VARCHAR",
    "user_agent": "VARCHAR",
    "client_fp": "VARCHAR",
    "api_key_id": "VARCHAR",
    "system_hash": "VARCHAR",
    "tool_schema_fp": "VARCHAR",
    "capability": "VARCHAR",
    "model": "VARCHAR",
    "lsh_keys": "VARCHAR[]",
}


@dataclass(frozen=True)
class KeySpec:
    """One kind of shared key. `sql` returns (aid, key, n); `per_exchange` says whether n counts
    exchanges (tf = n / the account's exchanges) or is the key's weight for the account itself
    (1 for an attribute such as a payment method)."""

    kind: str
    sql: str
    per_exchange: bool = True
    block: bool = True  # may propose candidate pairs (off for keys everybody shares)


def view_columns(con: Any, view: str) -> set[str]:
    """Column names of a view, or the empty set when it does not exist."""
    try:
        return set(con.sql(f"SELECT * FROM {view} LIMIT 0").columns)
    except Exception:  # duckdb raises CatalogException; any failure means "not available"
        return set()


def template_expr(ex_cols: set[str]) -> str:
    """SQL for an exchange's template: the global template id, else its exact skeleton."""
    cols = [f"CAST({c} AS VARCHAR)" for c in ("template_id", "skeleton_hash") if c in ex_cols]
    if not cols:
        return "CAST(NULL AS VARCHAR)"
    return cols[0] if len(cols) == 1 else f"coalesce({', '.join(cols)})"


def build_exchanges(con: Any, ex_cols: set[str]) -> int:
    """Number every account that has exchanges, in one global order (hash of the id), into ACCT,
    and copy the columns linkage reads into EX once (the view may be a join over Parquet).
    Returns the number of accounts."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {ACCT} AS
        SELECT account_id,
               CAST(row_number() OVER (ORDER BY hash(account_id), account_id) - 1 AS INTEGER) AS aid,
               n_ex, first_ts, last_ts
        FROM (SELECT CAST(account_id AS VARCHAR) AS account_id, count(*) AS n_ex, min(ts) AS first_ts,
                     max(ts) AS last_ts
              FROM exchanges WHERE account_id IS NOT NULL AND ts IS NOT NULL GROUP BY 1)
        """
    )
    cols = ", ".join(
        f"CAST({c} AS {t}) AS {c}" if c in ex_cols else f"CAST(NULL AS {t}) AS {c}"
        for c, t in EX_COLUMNS.items()
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {EX} AS
        SELECT a.aid, e.ts, {template_expr(ex_cols)} AS template, {cols}
        FROM (SELECT * FROM exchanges WHERE account_id IS NOT NULL AND ts IS NOT NULL) e
        JOIN {ACCT} a ON a.account_id = CAST(e.account_id AS VARCHAR)
        """
    )
    return int(con.execute(f"SELECT count(*) FROM {ACCT}").fetchall()[0][0])


def build_keys(con: Any, specs: list[KeySpec], n_accounts: int) -> None:
    """Materialize all specs into KEYS(kind, key, kid, aid, tf, df, idf, r, block)."""
    parts = []
    for spec in specs:
        tf = "CAST(s.n AS DOUBLE) / a.n_ex" if spec.per_exchange else "CAST(s.n AS DOUBLE)"
        parts.append(
            f"SELECT '{spec.kind}' AS kind, CAST(s.key AS VARCHAR) AS key, a.aid, {tf} AS tf, "
            f"{str(spec.block).upper()} AS block "
            f"FROM ({spec.sql}) s JOIN {ACCT} a USING (aid) WHERE s.key IS NOT NULL AND s.key <> ''"
        )
    if not parts:
        parts.append(
            "SELECT NULL::VARCHAR kind, NULL::VARCHAR key, NULL::INTEGER aid, "
            "NULL::DOUBLE tf, NULL::BOOLEAN block WHERE FALSE"
        )
    union = "\nUNION ALL\n".join(parts)
    if n_accounts > 2:
        raw = f"ln({n_accounts} / d.df) / {math.log(n_accounts / 2.0)}"
        idf = f"greatest(0.0, least(1.0, ({raw} - {IDF_FLOOR}) / {1 - IDF_FLOOR}))"
    else:
        idf = "1.0"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {KEYS} AS
        WITH raw AS (
            SELECT kind, key, aid, sum(tf) AS tf, bool_or(block) AS block
            FROM ({union}) GROUP BY kind, key, aid
        ), df AS (
            -- kid: a number per key, so that pairs are matched on integers, not strings
            SELECT kind, key, count(*) AS df, CAST(row_number() OVER () AS INTEGER) AS kid
            FROM raw GROUP BY kind, key HAVING count(*) >= 2
        )
        SELECT r.kind, r.key, d.kid, r.aid, least(r.tf, 1.0) AS tf, d.df,
               {idf} AS idf,
               row_number() OVER (PARTITION BY r.kind, r.key ORDER BY r.aid) AS r,
               r.block
        FROM raw r JOIN df d USING (kind, key)
        """
    )
