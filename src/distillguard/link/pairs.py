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


def build_candidates(con: Any, cfg: LinkConfig, n_accounts: int) -> int:
    """Materialize PAIRS(a, b) with a < b (account numbers); return their count.

    A pair is a candidate when keys of at least `min_agreeing` independent kinds propose it, or a
    strong kind does: the edge rule could not keep any other pair, so it is never scored."""
    max_df = max(cfg.block_window + 1, math.ceil(cfg.block_max_share * n_accounts))
    evidence = " ".join(f"WHEN '{k}' THEN '{e}'" for k, e in EVIDENCE_OF.items())
    strong = ", ".join(f"'{k}'" for k in cfg.strong) or "''"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {PAIRS} AS
        WITH proposals AS (
            SELECT DISTINCT x.kind, x.aid AS a, y.aid AS b
            FROM {KEYS} x JOIN {KEYS} y
              ON x.kind = y.kind AND x.key = y.key AND y.r > x.r AND y.r <= x.r + {int(cfg.block_window)}
            WHERE x.block AND x.df <= {max_df}
        )
        SELECT a, b FROM proposals
        GROUP BY a, b
        HAVING count(DISTINCT CASE kind {evidence} ELSE kind END) >= {int(cfg.min_agreeing)}
            OR bool_or(kind IN ({strong}))
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


def score_shared_keys(
    con: Any, overrides: dict[str, str] | None = None, skip: tuple[str, ...] = (), top: int = 3
) -> pa.Table:
    """Per candidate pair and kind: similarity, number of shared keys and the top shared keys.

    `overrides` maps a kind to a table (a, b, sim) whose similarity replaces the shared-key one
    (lockstep measures excess over chance, see `timing.py`); pairs missing there get 0. Kinds in
    `skip` are scored elsewhere (behaviour fingerprints, by cosine)."""
    overrides = overrides or {}
    sim = "least(1.0, sum(least(x.tf, y.tf) * x.idf))"
    joins, cases = [], []
    for i, (kind, table) in enumerate(sorted(overrides.items())):
        joins.append(f"LEFT JOIN {table} o{i} ON o{i}.a = s.a AND o{i}.b = s.b AND s.kind = '{kind}'")
        cases.append(f"WHEN s.kind = '{kind}' THEN coalesce(o{i}.sim, 0.0)")
    sim_out = f"CASE {' '.join(cases)} ELSE s.sim END" if cases else "s.sim"
    return con.sql(
        f"""
        WITH s AS (
            SELECT p.a, p.b, x.kind, {sim} AS sim, count(*) AS shared,
                   to_json(arg_max(x.key || ' (' || x.df || ' accounts)', least(x.tf, y.tf) * x.idf, {top}))
                       AS top_keys
            FROM {PAIRS} p
            JOIN {KEYS} x ON x.aid = p.a
            JOIN {KEYS} y ON y.aid = p.b AND y.kind = x.kind AND y.key = x.key
            WHERE x.kind NOT IN ({", ".join(f"'{k}'" for k in skip) or "''"})
            GROUP BY p.a, p.b, x.kind
        )
        SELECT s.a, s.b, s.kind, CAST({sim_out} AS DOUBLE) AS sim, s.shared, s.top_keys
        FROM s {" ".join(joins)}
        ORDER BY s.a, s.b, s.kind
        """
    ).to_arrow_table()


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
