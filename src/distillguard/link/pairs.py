"""Candidate pairs by blocking on shared keys, exact per-kind similarity, and the edge rule.

Blocking: within each key, an account is paired with the next `block_window` holders in one global
account order. Small keys thus propose all their pairs, a key held by 10,000 accounts proposes
~window × 10,000 instead of 50 million, and because the order is global, different keys held by
the same accounts propose the *same* pairs, so their evidence meets on one edge. Only pairs that
several independent kinds propose are scored.

Similarity of a candidate pair on one kind: sum over shared keys of min(tf_a, tf_b) × idf, in
[0, 1] — the weighted share of traffic the two accounts have in common, discounted by popularity.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.link.config import LinkConfig
from distillguard.link.keys import ACCT, EVIDENCE, EVIDENCE_OF, IDENTITY_KINDS, KEYS

PAIRS = "_dg_link_pairs"
BLOCKING = "_dg_link_blocking"
PROPOSALS_PER_SLICE = 20_000_000


def build_candidates(con: Any, cfg: LinkConfig, n_accounts: int) -> int:
    """Materialize PAIRS(a, b) with a < b (account numbers); return their count.

    A pair is a candidate when keys of at least `min_agreeing` independent kinds propose it, or a
    strong kind does: the edge rule could not keep any other pair, so it is never scored."""
    max_df = max(cfg.block_window + 1, math.ceil(cfg.block_max_share * n_accounts))
    # Each proposal is reduced to a bit of its evidence: one aggregate keyed by the pair alone
    # (the largest table of the stage) counts the independent kinds that propose it.
    bits = {kind: 1 << EVIDENCE.index(e) for kind, e in EVIDENCE_OF.items()}
    evidence = " ".join(f"WHEN '{k}' THEN {b}" for k, b in bits.items())
    unknown = 1 << len(EVIDENCE)
    strong = ", ".join(f"'{k}'" for k in cfg.strong) or "''"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {BLOCKING} AS
        SELECT kid, r, aid, CAST(CASE kind {evidence} ELSE {unknown} END AS INTEGER) AS ev,
               kind IN ({strong}) AS strong, block, df
        FROM {KEYS} WHERE df <= {max_df}
        """
    )
    # Bounded memory: the proposals are aggregated in slices of accounts (the pair's first
    # account), each slice holding about PROPOSALS_PER_SLICE proposals; slices share no pair.
    window = int(cfg.block_window)
    (proposals,) = con.execute(
        f"SELECT coalesce(sum(least({window}, df - r)), 0) FROM {BLOCKING} WHERE block"
    ).fetchall()[0]
    slices = max(1, math.ceil(int(proposals) / PROPOSALS_PER_SLICE))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {PAIRS} (a INTEGER, b INTEGER)")
    for i in range(slices):
        con.execute(
            f"""
            INSERT INTO {PAIRS}
            SELECT x.aid AS a, y.aid AS b
            FROM {BLOCKING} x JOIN {BLOCKING} y
              ON x.kid = y.kid AND y.r > x.r AND y.r <= x.r + {window}
            WHERE x.block AND x.aid % {slices} = {i}
            GROUP BY x.aid, y.aid
            HAVING bit_count(bit_or(x.ev)) >= {int(cfg.min_agreeing)} OR bool_or(x.strong)
            """
        )
    return int(con.execute(f"SELECT count(*) FROM {PAIRS}").fetchall()[0][0])


def drop_same_org(con: Any) -> int:
    """Remove candidate pairs of accounts that declare the same organisation; return how many.

    One organisation's accounts share payment, domain, office network and prompts by design: the
    graph looks for hidden links between accounts that present themselves as unrelated."""
    before = int(con.execute(f"SELECT count(*) FROM {PAIRS}").fetchall()[0][0])
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _dg_link_org AS
        SELECT a.aid, CAST(s.org_id AS VARCHAR) AS org FROM accounts s
        JOIN {ACCT} a ON a.account_id = CAST(s.account_id AS VARCHAR)
        WHERE s.org_id IS NOT NULL AND CAST(s.org_id AS VARCHAR) <> ''
        """
    )
    con.execute(
        f"DELETE FROM {PAIRS} p USING _dg_link_org x, _dg_link_org y "
        "WHERE x.aid = p.a AND y.aid = p.b AND x.org = y.org"
    )
    return before - int(con.execute(f"SELECT count(*) FROM {PAIRS}").fetchall()[0][0])


def _shared_keys_sql(pairs: str, skip: tuple[str, ...], split: int) -> str:
    """SQL of every (a, b, kind, key, df, v = min(tf_a, tf_b) × idf) a pair of `pairs` shares.

    Two ways to find the keys a candidate pair shares, each cheap where the other is not: a key
    held by d accounts costs d²/2 pairs when its holders are paired with each other, and d × (pairs
    per account) lookups when each candidate pair looks it up. Keys held by at most `split`
    accounts are joined holder to holder, the rest looked up from the pairs."""
    skipped = ", ".join(f"'{k}'" for k in skip) or "''"
    return f"""
        SELECT x.aid AS a, y.aid AS b, x.kind, x.key, x.df, least(x.tf, y.tf) * x.idf AS v
        FROM {KEYS} x
        JOIN {KEYS} y ON y.kid = x.kid AND y.r > x.r
        JOIN {pairs} p ON p.a = x.aid AND p.b = y.aid
        WHERE x.df <= {split} AND x.kind NOT IN ({skipped})
        UNION ALL
        SELECT p.a, p.b, x.kind, x.key, x.df, least(x.tf, y.tf) * x.idf AS v
        FROM {pairs} p
        JOIN {KEYS} x ON x.aid = p.a
        JOIN {KEYS} y ON y.aid = p.b AND y.kid = x.kid
        WHERE x.df > {split} AND x.kind NOT IN ({skipped})"""


def _split(con: Any, pairs: str) -> int:
    n_pairs, n_accounts = con.execute(f"SELECT count(*), count(DISTINCT a) FROM {pairs}").fetchall()[0]
    return max(2, math.ceil(2 * n_pairs / max(1, n_accounts)))


def score_shared_keys(
    con: Any,
    overrides: dict[str, str] | None = None,
    skip: tuple[str, ...] = (),
    pairs: str = PAIRS,
) -> pa.Table:
    """Per candidate pair and kind: similarity and number of shared keys (top_keys left null:
    `top_shared_keys` fills it in for the pairs that become edges).

    `overrides` maps a kind to a table (a, b, sim) whose similarity replaces the shared-key one
    (lockstep measures excess over chance, see `timing.py`); pairs missing there get 0. Kinds in
    `skip` are scored elsewhere (behaviour fingerprints, by cosine)."""
    overrides = overrides or {}
    joins, cases = [], []
    for i, (kind, table) in enumerate(sorted(overrides.items())):
        joins.append(f"LEFT JOIN {table} o{i} ON o{i}.a = s.a AND o{i}.b = s.b AND s.kind = '{kind}'")
        cases.append(f"WHEN s.kind = '{kind}' THEN coalesce(o{i}.sim, 0.0)")
    sim_out = f"CASE {' '.join(cases)} ELSE s.sim END" if cases else "s.sim"
    return con.sql(
        f"""
        WITH s AS (
            SELECT m.a, m.b, m.kind, least(1.0, sum(m.v)) AS sim, count(*) AS shared
            FROM ({_shared_keys_sql(pairs, skip, _split(con, pairs))}) m GROUP BY m.a, m.b, m.kind
        )
        SELECT s.a, s.b, s.kind, CAST({sim_out} AS DOUBLE) AS sim, s.shared,
               CAST(NULL AS VARCHAR) AS top_keys
        FROM s {" ".join(joins)}
        ORDER BY s.a, s.b, s.kind
        """
    ).to_arrow_table()


def top_shared_keys(con: Any, rows: pa.Table, skip: tuple[str, ...] = (), top: int = 3) -> pa.Table:
    """`rows` (a, b, kind, ...) with top_keys set to the `top` shared keys of largest
    min(tf_a, tf_b) × idf, as JSON (ties listed by key, so every run lists the same), for every
    kind not in `skip` (those keep theirs)."""
    kept = "_dg_link_kept"
    con.register("_dg_link_rows", rows.select(["a", "b"]))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {kept} AS SELECT DISTINCT a, b FROM _dg_link_rows")
    con.unregister("_dg_link_rows")
    tops = con.sql(
        f"""
        SELECT m.a, m.b, m.kind,
               to_json(list_transform(
                   arg_max({{'k': m.key, 'df': m.df}}, {{'v': m.v, 'k': m.key}}, {top}),
                   lambda t: t.k || ' (' || t.df || ' accounts)'
               )) AS top_keys
        FROM ({_shared_keys_sql(kept, skip, _split(con, kept))}) m GROUP BY m.a, m.b, m.kind
        """
    ).to_arrow_table()
    found = {
        (a, b, k): t
        for a, b, k, t in zip(
            tops["a"].to_pylist(),
            tops["b"].to_pylist(),
            tops["kind"].to_pylist(),
            tops["top_keys"].to_pylist(),
            strict=True,
        )
    }
    column = [
        t if k in skip else found.get((a, b, k))
        for a, b, k, t in zip(
            rows["a"].to_pylist(),
            rows["b"].to_pylist(),
            rows["kind"].to_pylist(),
            rows["top_keys"].to_pylist(),
            strict=True,
        )
    ]
    i = rows.schema.get_field_index("top_keys")
    return rows.set_column(i, "top_keys", pa.array(column, pa.string()))


def combine(scores: pa.Table, cfg: LinkConfig) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    """Apply the edge rule. Returns the kept per-kind rows and the kept pairs (a, b, weight).

    A pair is kept when
    1. a strong kind (shared payment method or API key) reaches its similarity on its own, or
    2. at least `min_agreeing` independent pieces of evidence (`keys.EVIDENCE_OF`) each reach
       `evidence_min`, together reach `min_weight`, and (with `require_identity`) at least
       `identity_min` of it is evidence of a common operator (`keys.IDENTITY_KINDS`) — a creation
       burst alone counts only when one more kind agrees — or
    3. content, timing and behaviour alone reach `bridge_min_weight` between two accounts that
       both have a link of kind 1 or 2 already.
    A shared benchmark, a common user agent, or eval runners sending one benchmark in the same
    hour of release day link nobody.
    """
    if scores.num_rows == 0:
        return scores.slice(0, 0), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    a = scores["a"].to_numpy().astype(np.int64)
    b = scores["b"].to_numpy().astype(np.int64)
    kinds = scores["kind"].to_numpy(zero_copy_only=False)
    sim = scores["sim"].to_numpy().copy()
    shared = scores["shared"].to_numpy()
    for kind, least in cfg.min_shared.items():
        sim[(kinds == kind) & (shared < least)] = 0.0
    _, inv = np.unique(a * (int(max(a.max(), b.max())) + 1) + b, return_inverse=True)
    n_pairs = int(inv.max()) + 1
    weight_k = np.array([cfg.kind_weights.get(k, 0.0) for k in kinds]) * sim
    ev = np.zeros((n_pairs, len(EVIDENCE)))
    np.add.at(ev, (inv, np.array([EVIDENCE.index(EVIDENCE_OF[k]) for k in kinds])), weight_k)
    strong = np.zeros(n_pairs, bool)
    np.logical_or.at(strong, inv, sim >= np.array([cfg.strong.get(k, np.inf) for k in kinds]))
    agreeing = (ev >= cfg.evidence_min).sum(axis=1)
    total = ev.sum(axis=1)
    weak_ok = (agreeing >= cfg.min_agreeing) & (total >= cfg.min_weight)
    first_a, first_b = _first_rows(inv, a, b)
    if cfg.require_identity:
        operator, backed_pair = _operator_evidence(ev, agreeing, cfg)
        content_only = weak_ok & ~backed_pair
        weak_ok &= backed_pair
        # A pool created in several bursts is several operator-linked groups that the same
        # prompts and behaviour tie together: content-only evidence may bridge accounts that
        # already have an operator-backed link each, never pull in an account that has none.
        backed = np.zeros(int(max(a.max(), b.max())) + 1, bool)
        kept = strong | weak_ok
        backed[first_a[kept]] = backed[first_b[kept]] = True
        weak_ok |= (
            content_only & (total - operator >= cfg.bridge_min_weight) & backed[first_a] & backed[first_b]
        )
    keep_pair = strong | weak_ok
    keep_row = keep_pair[inv] & (weight_k > 0)
    kept_rows = scores.filter(pa.array(keep_row)).append_column(
        "weight", pa.array(weight_k[keep_row], pa.float64())
    )
    return kept_rows, first_a[keep_pair], first_b[keep_pair], total[keep_pair]


def _operator_evidence(
    ev: np.ndarray, agreeing: np.ndarray, cfg: LinkConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(operator evidence weight, whether it backs the pair) per pair. A creation burst is a
    coincidence in time that unrelated sign-ups share too: alone it backs a pair only when one
    more kind than `min_agreeing` agrees."""
    identity_col = np.array([e in IDENTITY_KINDS for e in EVIDENCE])
    coincidence_col = np.array([e in cfg.coincidence_kinds for e in EVIDENCE])
    identity = ev[:, identity_col].sum(axis=1)
    operator = ev[:, identity_col & ~coincidence_col].sum(axis=1)
    backed = (operator >= cfg.identity_min) | (
        (identity >= cfg.identity_min) & (agreeing >= cfg.min_agreeing + 1)
    )
    return identity, backed


def _first_rows(inv: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of each unique pair, from the per-kind rows that map to it through `inv`."""
    first = np.zeros(int(inv.max()) + 1, np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    return a[first], b[first]
