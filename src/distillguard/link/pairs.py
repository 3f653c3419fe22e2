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
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.link.config import LinkConfig
from distillguard.link.keys import (
    ACCT,
    EVIDENCE,
    EVIDENCE_OF,
    FAMILY_OF,
    HARVEST_KINDS,
    IDENTITY_KEY_KINDS,
    IDENTITY_KINDS,
    KEY_NAMES,
    KEYS,
    OPERATOR_KINDS,
    sql_list,
)

PAIRS = "_dg_link_pairs"
BLOCKING = "_dg_link_blocking"
PROPOSALS_PER_SLICE = 20_000_000
# Up to this many accounts the proposals are aggregated in a matrix of every pair (2 bytes a cell:
# 32 MB, about 80 MB at the pass's peak) instead of a hash aggregate: numpy, the same pairs.
DENSE_MAX_ACCOUNTS = 4096
_STRONG_BIT = 15  # a proposal's strong flag, beside its evidence bits (fewer than 15, checked below)
TOP_KEYS = 3  # shared keys listed per edge and kind, as evidence


def build_candidates(con: Any, cfg: LinkConfig, n_accounts: int, blocking_kinds: list[str]) -> int:
    """Materialize PAIRS(a, b) with a < b (account numbers); return their count.

    A pair is a candidate when keys of at least `min_agreeing` independent kinds propose it, or a
    strong kind does: the edge rule could not keep any other pair, so it is never scored. Only keys
    of `blocking_kinds` propose pairs."""
    max_df = max(cfg.block_window + 1, math.ceil(cfg.block_max_share * n_accounts))
    # Each proposal is reduced to a bit of its evidence: one aggregate keyed by the pair alone
    # (the largest table of the stage) counts the independent kinds that propose it.
    bits = {kind: 1 << EVIDENCE.index(e) for kind, e in EVIDENCE_OF.items()}
    evidence = " ".join(f"WHEN '{k}' THEN {b}" for k, b in bits.items())
    unknown = 1 << len(EVIDENCE)
    strong = sql_list(cfg.strong)
    kinds = sql_list(blocking_kinds)
    # Keys held by exactly the same accounts propose exactly the same pairs (a template's
    # paraphrase bands, its lockstep windows): one key per set of holders and evidence is enough.
    # r: the holder's rank in the global account order, within its key.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {BLOCKING} AS
        WITH holders AS (
            SELECT CAST(CASE any_value(kind) {evidence} ELSE {unknown} END AS INTEGER) AS ev,
                   any_value(kind) IN ({strong}) AS strong, list(aid ORDER BY aid) AS aids
            FROM {KEYS} WHERE df <= {max_df} AND kind IN ({kinds}) GROUP BY kid
        ), sets AS (
            SELECT CAST(row_number() OVER () AS INTEGER) AS sid, ev, strong, aids
            FROM (SELECT DISTINCT ev, strong, aids FROM holders)
        )
        SELECT sid, ev, strong, CAST(len(aids) AS INTEGER) AS df, unnest(aids) AS aid,
               CAST(generate_subscripts(aids, 1) AS INTEGER) AS r
        FROM sets
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {PAIRS} (a INTEGER, b INTEGER)")
    if n_accounts <= DENSE_MAX_ACCOUNTS:
        _dense_candidates(con, n_accounts, int(cfg.block_window), int(cfg.min_agreeing))
    else:
        _sliced_candidates(con, int(cfg.block_window), int(cfg.min_agreeing))
    con.execute(f"DROP TABLE {BLOCKING}")
    return int(con.execute(f"SELECT count(*) FROM {PAIRS}").fetchall()[0][0])


def _sliced_candidates(con: Any, window: int, min_agreeing: int) -> None:
    """Fill PAIRS from BLOCKING with a hash aggregate per pair. Bounded memory: the proposals are
    aggregated in slices of accounts (the pair's first account), each slice holding about
    PROPOSALS_PER_SLICE proposals; slices share no pair."""
    (proposals,) = con.execute(
        f"SELECT coalesce(sum(least({window}, df - r)), 0) FROM {BLOCKING}"
    ).fetchall()[0]
    slices = max(1, math.ceil(int(proposals) / PROPOSALS_PER_SLICE))
    for i in range(slices):
        con.execute(
            f"""
            INSERT INTO {PAIRS}
            SELECT x.aid AS a, y.aid AS b
            FROM {BLOCKING} x JOIN {BLOCKING} y
              ON x.sid = y.sid AND y.r > x.r AND y.r <= x.r + {window}
            WHERE x.aid % {slices} = {i}
            GROUP BY x.aid, y.aid
            HAVING bit_count(bit_or(x.ev)) >= {min_agreeing} OR bool_or(x.strong)
            """
        )


def _dense_candidates(con: Any, n_accounts: int, window: int, min_agreeing: int) -> None:
    """Fill PAIRS from BLOCKING as the sliced aggregate does, in a matrix cell per pair (a, b):
    the OR of its proposals' evidence bits and strong flags. A holder proposes the next `window`
    holders of its set (rows in rank order, so the one `d` ranks on is `d` rows on)."""
    assert len(EVIDENCE) + 1 < _STRONG_BIT  # the evidence bits, the unknown kind's bit, then strong
    rows = con.execute(f"SELECT aid, ev, strong, df, r FROM {BLOCKING} ORDER BY sid, r").fetchnumpy()
    aid = np.asarray(rows["aid"], np.int64)
    flags = np.asarray(rows["ev"], np.uint16) | (np.asarray(rows["strong"], np.uint16) << _STRONG_BIT)
    after = np.asarray(rows["df"]) - np.asarray(rows["r"])  # holders after this one in its set
    cells = np.zeros(n_accounts * n_accounts, np.uint16)
    # One flag value at a time: a plain fancy assignment ORs it in, even for repeated pairs.
    for value in np.unique(flags):
        holders = np.flatnonzero(flags == value)
        for d in range(1, window + 1):
            holders = holders[after[holders] >= d]
            if not len(holders):
                break
            cells[aid[holders] * n_accounts + aid[holders + d]] |= value
    strong = cells >= (1 << _STRONG_BIT)
    np.bitwise_and(cells, (1 << _STRONG_BIT) - 1, out=cells)  # in place: the evidence bits alone
    kept = np.flatnonzero((np.bitwise_count(cells) >= min_agreeing) | strong)
    pairs = pa.table({"a": (kept // n_accounts).astype(np.int32), "b": (kept % n_accounts).astype(np.int32)})
    con.register("_dg_link_dense_pairs", pairs)
    try:
        con.execute(f"INSERT INTO {PAIRS} SELECT a, b FROM _dg_link_dense_pairs")
    finally:
        con.unregister("_dg_link_dense_pairs")


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


def kinds_filter(only: Iterable[str] | None = None, skip: Iterable[str] = ()) -> str:
    """SQL condition on `x.kind`: in `only` (when given) and not in `skip`."""
    conds = [f"x.kind NOT IN ({sql_list(skip)})"] if skip else []
    if only is not None:
        conds.append(f"x.kind IN ({sql_list(only)})")
    return " AND ".join(conds) or "TRUE"


def _shared_keys_sql(pairs: str, kinds: str, split: int) -> str:
    """SQL of every (a, b, kind, kid, df, v = min(tf_a, tf_b) × idf) a pair of `pairs` shares, for
    the keys whose kind meets `kinds` (a condition on x.kind, see `kinds_filter`).

    Two ways to find the keys a candidate pair shares, each cheap where the other is not: a key
    held by d accounts costs d²/2 pairs when its holders are paired with each other, and d × (pairs
    per account) lookups when each candidate pair looks it up. Keys held by at most `split`
    accounts are joined holder to holder, the rest looked up from the pairs: the lookup matches
    (account, key) as one value, so that the join cannot be planned as pairing all the holders of
    popular keys after all. Either way only the keys of accounts in a pair are read."""
    return f"""
        SELECT x.aid AS a, y.aid AS b, x.kind, x.kid, x.df, least(x.tf, y.tf) * x.idf AS v
        FROM {KEYS} x
        JOIN {KEYS} y ON y.kid = x.kid AND y.aid > x.aid
        JOIN {pairs} p ON p.a = x.aid AND p.b = y.aid
        WHERE x.df <= {split} AND {kinds}
          AND x.aid IN (SELECT a FROM {pairs}) AND y.aid IN (SELECT b FROM {pairs})
        UNION ALL
        SELECT p.a, p.b, x.kind, x.kid, x.df, least(x.tf, y.tf) * x.idf AS v
        FROM {pairs} p
        JOIN {KEYS} x ON x.aid = p.a
        JOIN {KEYS} y ON {{'aid': y.aid, 'kid': y.kid}} = {{'aid': p.b, 'kid': x.kid}}
        WHERE x.df > {split} AND y.df > {split} AND {kinds} AND y.aid IN (SELECT b FROM {pairs})"""


def _split(con: Any, pairs: str) -> int:
    n_pairs, n_accounts = con.execute(f"SELECT count(*), count(DISTINCT a) FROM {pairs}").fetchall()[0]
    return max(2, math.ceil(2 * n_pairs / max(1, n_accounts)))


def score_shared_keys(
    con: Any,
    overrides: dict[str, str] | None = None,
    skip: tuple[str, ...] = (),
    pairs: str = PAIRS,
) -> pa.Table:
    """Per candidate pair and kind: similarity, number of shared keys and the numbers of the
    TOP_KEYS shared keys of largest min(tf_a, tf_b) × idf, ties listed by key (within one kind,
    kid order is key order, see `keys.build_keys`); top_keys is left null: `top_shared_keys`
    writes their text for the pairs that become edges.

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
            SELECT m.a, m.b, m.kind, least(1.0, sum(m.v)) AS sim, count(*) AS shared,
                   arg_max(m.kid, {{'v': m.v, 'kid': m.kid}}, {TOP_KEYS}) AS top_kids
            FROM ({_shared_keys_sql(pairs, kinds_filter(skip=skip), _split(con, pairs))}) m
            GROUP BY m.a, m.b, m.kind
        )
        SELECT s.a, s.b, CAST(s.kind AS VARCHAR) AS kind, CAST({sim_out} AS DOUBLE) AS sim, s.shared,
               s.top_kids, CAST(NULL AS VARCHAR) AS top_keys
        FROM s {" ".join(joins)}
        ORDER BY 1, 2, 3
        """
    ).to_arrow_table()


def operator_backable(con: Any, cfg: LinkConfig, pairs: str, out: str) -> None:
    """Materialize `out`(a, b): the pairs of `pairs` that rule 1 or 2 of the edge rule could keep.

    Both need operator evidence (`keys.IDENTITY_KINDS`) of weight `identity_min`, or a strong kind
    at its similarity; these kinds have few keys, so their similarities are cheap to compute for
    every candidate. Their sum bounds what `combine` counts (negative weights count as 0); a small
    margin keeps the pairs right at a threshold, so rounding cannot drop one."""
    margin = 1e-9
    identity = sorted(IDENTITY_KEY_KINDS | HARVEST_KINDS)
    weight = " ".join(f"WHEN '{k}' THEN {max(0.0, cfg.kind_weights.get(k, 0.0))}" for k in identity)
    keep = [f"sum(sim * CASE kind {weight} ELSE 0.0 END) >= {cfg.identity_min - margin}"]
    if cfg.strong:
        strong = " ".join(f"WHEN '{k}' THEN {v}" for k, v in cfg.strong.items())
        keep.append(f"bool_or(sim >= CASE kind {strong} END - {margin})")
    shared = _shared_keys_sql(pairs, kinds_filter(only=set(identity) | set(cfg.strong)), _split(con, pairs))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT a, b FROM (
            SELECT m.a, m.b, m.kind, least(1.0, sum(m.v)) AS sim FROM ({shared}) m GROUP BY m.a, m.b, m.kind
        )
        GROUP BY a, b HAVING {" OR ".join(keep)}
        """
    )


def top_shared_keys(con: Any, rows: pa.Table, skip: tuple[str, ...] = ()) -> pa.Table:
    """`rows` (a, b, kind, ..., top_kids, top_keys) with top_keys set to the text of the keys in
    top_kids, as JSON ["key (n accounts)", ...], for every kind not in `skip` (those keep theirs);
    top_kids is dropped."""
    kinds = rows["kind"].to_pylist()
    listed = [i for i, k in enumerate(kinds) if k not in skip]
    con.register(
        "_dg_link_top_kids",
        pa.table(
            {"i": pa.array(listed, pa.int64()), "kids": rows["top_kids"].take(pa.array(listed, pa.int64()))}
        ),
    )
    tops = con.sql(
        f"""
        SELECT l.i, to_json(list(n.key || ' (' || n.df || ' accounts)' ORDER BY l.rank)) AS top_keys
        FROM (SELECT i, unnest(kids) AS kid, generate_subscripts(kids, 1) AS rank FROM _dg_link_top_kids) l
        JOIN {KEY_NAMES} n ON n.kid = l.kid
        GROUP BY l.i
        """
    ).fetchall()
    con.unregister("_dg_link_top_kids")
    column = rows["top_keys"].to_pylist()
    for i, text in tops:
        column[i] = text
    rows = rows.drop_columns(["top_kids"])
    return rows.set_column(rows.schema.get_field_index("top_keys"), "top_keys", pa.array(column, pa.string()))


def combine(scores: pa.Table, cfg: LinkConfig) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    """Apply the edge rule. Returns the kept per-kind rows and the kept pairs (a, b, weight).

    A pair is kept when
    1. a strong kind (shared payment method or API key) reaches its similarity on its own, or
    2. at least `min_agreeing` independent pieces of evidence (`keys.EVIDENCE_OF`) each reach
       `evidence_min`, together reach `min_weight`, and (with `require_identity`) at least
       `identity_min` of it is evidence of a common operator (`keys.IDENTITY_KINDS`) — a creation
       burst alone counts only when one more kind agrees — or
    3. content and behaviour alone reach `bridge_min_weight` between two accounts that both have
       a link of kind 1 or 2 already. Timing is left out of this sum: lockstep on a popular prompt
       on release day is what a classroom student, backed by its classmates' addresses, shares
       with a harvest pool.
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
        # Lockstep (timing that is not a machine cadence, which `operator` holds already).
        timing_col = np.array([FAMILY_OF.get(e) == "timing" and e not in IDENTITY_KINDS for e in EVIDENCE])
        bridge = total - operator - ev[:, timing_col].sum(axis=1)
        weak_ok |= content_only & (bridge >= cfg.bridge_min_weight) & backed[first_a] & backed[first_b]
    keep_pair = strong | weak_ok
    keep_row = keep_pair[inv] & (weight_k > 0)
    kept_rows = scores.filter(pa.array(keep_row)).append_column(
        "weight", pa.array(weight_k[keep_row], pa.float64())
    )
    return kept_rows, first_a[keep_pair], first_b[keep_pair], total[keep_pair]


def _operator_evidence(
    ev: np.ndarray, agreeing: np.ndarray, cfg: LinkConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(operator evidence weight, whether it backs the pair) per pair. Evidence that unrelated
    accounts may share by chance (`coincidence_kinds`, and harvest content, `keys.HARVEST_KINDS`)
    backs a pair only when one more kind than `min_agreeing` agrees."""
    identity_col = np.array([e in IDENTITY_KINDS for e in EVIDENCE])
    coincidence_col = np.array([e in cfg.coincidence_kinds for e in EVIDENCE])
    harvest_col = np.array([e in HARVEST_KINDS for e in EVIDENCE])
    identity = ev[:, identity_col].sum(axis=1)
    operator = ev[:, identity_col & ~coincidence_col].sum(axis=1)
    by_chance = identity + ev[:, harvest_col].sum(axis=1)
    backed = (operator >= cfg.identity_min) | (
        (by_chance >= cfg.identity_min) & (agreeing >= cfg.min_agreeing + 1)
    )
    return identity, backed


def _first_rows(inv: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of each unique pair, from the per-kind rows that map to it through `inv`."""
    first = np.zeros(int(inv.max()) + 1, np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    return a[first], b[first]


def operator_pairs(rows: pa.Table, cfg: LinkConfig) -> set[tuple[int, int]]:
    """The pairs (a, b) of kept per-kind `rows` whose operator evidence — `keys.OPERATOR_KINDS`
    less `coincidence_kinds`, creation bursts left out — reaches `identity_min`: what community
    merging and the cluster summary's member ties count as one operator's link."""
    if rows.num_rows == 0:
        return set()
    operator = [k for k in OPERATOR_KINDS if EVIDENCE_OF[k] not in cfg.coincidence_kinds]
    is_op = np.isin(rows["kind"].to_numpy(zero_copy_only=False), operator)
    if not is_op.any():
        return set()
    a = rows["a"].to_numpy().astype(np.int64)[is_op]
    b = rows["b"].to_numpy().astype(np.int64)[is_op]
    n = int(max(a.max(), b.max())) + 1
    uniq, inv = np.unique(a * n + b, return_inverse=True)
    weight = np.zeros(len(uniq))
    np.add.at(weight, inv, rows["weight"].to_numpy()[is_op])
    backed = uniq[weight >= cfg.identity_min]
    return set(zip((backed // n).tolist(), (backed % n).tolist(), strict=True))
