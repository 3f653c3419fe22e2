"""Shared keys: the account × key incidence every shared-evidence edge family is built on.

An edge family declares `KeySpec`s — SQL over the `exchanges` / `accounts` views returning
(account_id, key, n). A key is anything two accounts can have in common: an IP in a time window,
a payment fingerprint, a template. `build_keys` gives every (kind, key) held by at least two
accounts a number, `kid`, and keeps its text once, in KEY_NAMES; the incidence itself, KEYS, holds
numbers only, so that blocking and scoring join on integers and the largest table of the stage
stays small. Per (key, account):

- `tf`: the share of the account's exchanges that carry the key (1 for account-level keys), so a
  template that is one request out of ten thousand weighs little for that account;
- `df`: how many accounts hold the key, and `idf = (ln(N/df) / ln(N/2) - f) / (1 - f)` clipped to
  [0, 1] with f = IDF_FLOOR, so a key held by two accounts weighs 1 and one held by most accounts
  (python-requests, a cloud NAT in a small scan) weighs 0.
Keys held by one account only are dropped: they cannot link anybody.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
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
    "harvest_band": "content",
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
# The key kinds whose evidence is identity evidence (an IP restates the network, a client
# fingerprint the client): what an account without operator evidence lacks.
IDENTITY_KEY_KINDS: frozenset[str] = frozenset(k for k, e in EVIDENCE_OF.items() if e in IDENTITY_KINDS)
# The key kinds that tell whether a cluster's links are one operator's: identity evidence without
# creation bursts, which two schools' classes signing up in the same week share by chance too.
OPERATOR_KINDS: frozenset[str] = IDENTITY_KEY_KINDS - {"creation_burst"}

# Content only a harvest sends: the paraphrase bands of exchanges with a strong harvest signal
# (chain-of-thought elicitation, rubric grading, censorship rewrite). Without an accounts file, a
# pool that rotates its network has nothing else in common; such evidence backs a weak link like
# operator evidence, but, like coincidental operator evidence, only when one more kind than
# `min_agreeing` agrees. Eval runners and classrooms share prompts, but not harvest prompts.
HARVEST_KINDS: frozenset[str] = frozenset({"harvest_band"})

IDF_FLOOR = 0.1  # a key held by more than about N^0.9 accounts says nothing about any pair

ACCT = "_dg_link_acct"
EX = "_dg_link_ex"
KEYS = "_dg_link_keys"  # (kind, kid, aid, tf, df, idf): one row per key and holder
KEY_NAMES = "_dg_link_key_names"  # (kid, kind, key, df): one row per key, its text
# build_keys' scratch tables, for one kind: its keys numbered (key, ref), its rows summed per key
# and account (ref, aid, n) and its keys held by >= 2 accounts (ref, kid, key, df)
_KIND_IDS = "_dg_link_kind_ids"
_KIND_ROWS = "_dg_link_kind_rows"
_KIND_KEYS = "_dg_link_kind_keys"
# Scans of more exchanges than this number their keys before summing rows per key and account.
NUMBER_FIRST_EXCHANGES = 400_000

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
}


@dataclass(frozen=True)
class KeySpec:
    """One kind of shared key. `sql` returns rows (aid, key, n), any number per (aid, key): their n
    are added up, across the specs of one kind too. `per_exchange` says whether n counts exchanges
    (tf = n / the account's exchanges) or is the key's weight for the account itself (1 for an
    attribute such as a payment method)."""

    kind: str
    sql: str
    per_exchange: bool = True
    block: bool = True  # may propose candidate pairs (off for keys everybody shares)
    # A key carrying less than this share of an account's traffic is not the account's key: an
    # address block it passes through once among hundreds (a cloud region's egress, a proxy pool)
    # says which provider it uses, not who runs it.
    min_tf: float = 0.0
    # The spec reads EX's template column (global template ids), which may be completed late:
    # see `build_keys`' `later`.
    reads_templates: bool = False


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


def build_exchanges(con: Any, ex_cols: set[str], *, templates: bool = True) -> int:
    """Number every account that has exchanges, in one global order (hash of the id), into ACCT,
    and copy the columns linkage reads into EX once (the view may be a join over Parquet).
    Without `templates` (the grouping is still running), EX's template column holds each
    exchange's skeleton until `set_templates` completes it. Returns the number of accounts."""
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
        SELECT a.aid, e.ts, {template_expr(ex_cols if templates else ex_cols - {"template_id"})} AS template,
               {cols}
        FROM (SELECT * FROM exchanges WHERE account_id IS NOT NULL AND ts IS NOT NULL) e
        JOIN {ACCT} a ON a.account_id = CAST(e.account_id AS VARCHAR)
        """
    )
    return int(con.execute(f"SELECT count(*) FROM {ACCT}").fetchall()[0][0])


def set_templates(con: Any, mapping: Any) -> None:
    """Complete EX's template column from the template grouping's (skeleton_hash, template_id):
    EX built without templates holds the skeletons, and a skeleton's template id is the same for
    every exchange that has it, so only the skeletons grouped under another id change."""
    con.register("_dg_link_template_map", mapping)
    try:
        con.execute(
            f"""
            UPDATE {EX} SET template = m.template_id
            FROM (SELECT CAST(skeleton_hash AS VARCHAR) AS skeleton,
                         CAST(template_id AS VARCHAR) AS template_id
                  FROM _dg_link_template_map WHERE skeleton_hash <> template_id) AS m
            WHERE {EX}.template = m.skeleton
            """
        )
    finally:
        con.unregister("_dg_link_template_map")


def sql_str(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_list(values: Iterable[str]) -> str:
    """Values as a SQL list of string literals, for `IN (...)` (never empty: '' matches no kind)."""
    return ", ".join(map(sql_str, values)) or "''"


def kind_type(kinds: list[str] | set[str]) -> str:
    """SQL type of a `kind` column: an ENUM of the kinds, in name order (so sorting by kind sorts
    by name), one byte per row instead of a string."""
    return f"ENUM({sql_list(sorted(kinds))})"


_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
)


def _kind_rows(con: Any, specs: list[KeySpec]) -> str:
    """SQL of one kind's rows (aid, key, n), its specs' rows together. Integer keys (MinHash bands,
    millions of rows) are grouped as integers and turned into text only once kept; any other
    key is text, and the empty text is no key."""
    typed = [(spec, str(con.sql(f"SELECT key FROM ({spec.sql}) s LIMIT 0").types[0])) for spec in specs]
    integers = all(t in _INTEGER_TYPES for _, t in typed)
    key = "s.key" if integers else "CAST(s.key AS VARCHAR)"
    blank = "" if integers else f" AND {key} <> ''"
    return " UNION ALL ".join(
        f"SELECT s.aid, {key} AS key, CAST(s.n AS DOUBLE) AS n "
        f"FROM ({spec.sql}) s WHERE s.key IS NOT NULL{blank}"
        for spec, _ in typed
    )


def build_keys(
    con: Any, specs: list[KeySpec], n_accounts: int, *, later: Callable[[], None] | None = None
) -> list[str]:
    """Materialize all specs into KEYS(kind, kid, aid, tf, df, idf) and KEY_NAMES(kid, kind, key, df),
    one kind at a time. Returns the kinds whose keys may propose candidate pairs (a spec of the kind
    has `block`).

    With `later`, the kinds of specs that read templates (`reads_templates`) come last, after
    `later()` has been called (it completes EX's template column while the others are built);
    `later()` is called in any case. A kind's keys are numbered in key order whatever the order
    of the kinds, so the keys are the same either way.

    A kind's rows are summed per (key, account). In a small scan they are grouped by the key's
    text; past NUMBER_FIRST_EXCHANGES the kind's distinct keys are numbered first and the rows
    grouped by number, so that no aggregate holds a key's text once per account (the band keys
    of 1M exchanges are 16M rows but 170k keys) — at the price of running the specs twice."""
    kinds = sorted({spec.kind for spec in specs})
    per_exchange = {spec.kind for spec in specs if spec.per_exchange}
    if mixed := per_exchange & {spec.kind for spec in specs if not spec.per_exchange}:
        raise ValueError(f"the key specs of {sorted(mixed)} disagree on per_exchange")
    kind = kind_type(kinds or ["none"])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {KEYS} "
        f"(kind {kind}, kid INTEGER, aid INTEGER, tf DOUBLE, df INTEGER, idf DOUBLE)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {KEY_NAMES} (kid INTEGER, kind {kind}, key VARCHAR, df INTEGER)"
    )
    exchanges, max_exchanges = con.execute(
        f"SELECT coalesce(sum(n_ex), 0), coalesce(max(n_ex), 0) FROM {ACCT}"
    ).fetchall()[0]
    number_first = int(exchanges) > NUMBER_FIRST_EXCHANGES
    if n_accounts > 2:
        raw = f"ln({n_accounts} / d.df) / {math.log(n_accounts / 2.0)}"
        idf = f"greatest(0.0, least(1.0, ({raw} - {IDF_FLOOR}) / {1 - IDF_FLOOR}))"
    else:
        idf = "1.0"
    waiting = {spec.kind for spec in specs if spec.reads_templates} if later is not None else set()
    kids = 0  # keys numbered so far
    for name in [k for k in kinds if k not in waiting] + [k for k in kinds if k in waiting]:
        if name in waiting and later is not None:
            later()
            later = None
        rows = _kind_rows(con, [spec for spec in specs if spec.kind == name])
        # ref: what the rows are grouped by, the key itself or its number in _KIND_IDS
        if number_first:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_KIND_IDS} AS SELECT key, "
                f"CAST(row_number() OVER () AS INTEGER) AS ref FROM (SELECT DISTINCT key FROM ({rows}))"
            )
            rows = f"SELECT i.ref, r.aid, r.n FROM ({rows}) r JOIN {_KIND_IDS} i USING (key)"
            names, key = f"JOIN {_KIND_IDS} i USING (ref)", "CAST(i.key AS VARCHAR)"
        else:
            rows = f"SELECT key AS ref, aid, n FROM ({rows})"
            names, key = "", "CAST(d.ref AS VARCHAR)"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_KIND_ROWS} AS "
            f"SELECT ref, aid, sum(n) AS n FROM ({rows}) GROUP BY ref, aid"
        )
        tf = "r.n / a.n_ex" if name in per_exchange else "r.n"  # over _KIND_ROWS r and ACCT a
        min_tf = max(spec.min_tf for spec in specs if spec.kind == name)
        # Before df is counted: a passing holder does not make a key common either. Only accounts
        # with more than 1 / min_tf exchanges can hold a key below the share.
        if min_tf > 0 and (name not in per_exchange or max_exchanges * min_tf > 1):
            con.execute(f"DELETE FROM {_KIND_ROWS} r USING {ACCT} a WHERE r.aid = a.aid AND {tf} < {min_tf}")
        # kid: a number per key held by >= 2 accounts, so that pairs are matched on integers, not
        # strings. Numbered in (kind, key) order: ranking one kind's keys by kid ranks them by text.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {_KIND_KEYS} AS
            WITH held AS (
                SELECT ref, CAST(count(*) AS INTEGER) AS df FROM {_KIND_ROWS}
                GROUP BY ref HAVING count(*) >= 2
            )
            SELECT d.ref, CAST({kids} + row_number() OVER (ORDER BY {key}) AS INTEGER) AS kid,
                   {key} AS key, d.df
            FROM held d {names}
            """
        )
        con.execute(f"INSERT INTO {KEY_NAMES} SELECT kid, '{name}', key, df FROM {_KIND_KEYS}")
        con.execute(
            f"""
            INSERT INTO {KEYS}
            SELECT '{name}', d.kid, r.aid, least({tf}, 1.0), d.df, {idf}
            FROM {_KIND_ROWS} r JOIN {_KIND_KEYS} d USING (ref) JOIN {ACCT} a USING (aid)
            """
        )
        kids += int(con.execute(f"SELECT count(*) FROM {_KIND_KEYS}").fetchall()[0][0])
    for scratch in (_KIND_IDS, _KIND_ROWS, _KIND_KEYS):
        con.execute(f"DROP TABLE IF EXISTS {scratch}")
    if later is not None:
        later()
    return sorted({spec.kind for spec in specs if spec.block})
