"""Candidate pairs by blocking on shared keys, exact per-kind similarity, and the edge rule.

Blocking: within each key, an account is paired with the next `block_window` holders in one global
account order. Small keys thus propose all their pairs, a key held by 10,000 accounts proposes
~window × 10,000 instead of 50 million, and because the order is global, different keys held by
the same accounts propose the *same* pairs, so their evidence meets on one edge.

Similarity of a candidate pair on one kind: sum over shared keys of min(tf_a, tf_b) × idf, in
[0, 1] — the weighted share of traffic the two accounts have in common, discounted by popularity.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.link.config import LinkConfig
from distillguard.link.keys import EVIDENCE, EVIDENCE_OF, KEYS

PAIRS = "_dg_link_pairs"


def build_candidates(con: Any, cfg: LinkConfig, n_accounts: int) -> int:
    """Materialize PAIRS(a, b) with a < b (account numbers); return their count."""
    max_df = max(cfg.block_window + 1, math.ceil(cfg.block_max_share * n_accounts))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {PAIRS} AS
        SELECT DISTINCT x.aid AS a, y.aid AS b
        FROM {KEYS} x JOIN {KEYS} y
          ON x.kind = y.kind AND x.key = y.key AND y.r > x.r AND y.r <= x.r + {int(cfg.block_window)}
        WHERE x.block AND x.df <= {max_df}
        """
    )
    return int(con.execute(f"SELECT count(*) FROM {PAIRS}").fetchall()[0][0])


def add_pairs(con: Any, pairs: pa.Table) -> None:
    """Add candidate pairs (columns a, b) proposed by a family that does not use shared keys."""
    if pairs.num_rows == 0:
        return
    con.register("_dg_link_extra", pairs)
    con.execute(
        f"""INSERT INTO {PAIRS}
        SELECT DISTINCT least(a, b), greatest(a, b) FROM _dg_link_extra WHERE a <> b
        EXCEPT SELECT a, b FROM {PAIRS}"""
    )
    con.unregister("_dg_link_extra")


def score_shared_keys(con: Any, top: int = 3) -> pa.Table:
    """Per candidate pair and kind: similarity, number of shared keys and the top shared keys."""
    return con.sql(
        f"""
        SELECT p.a, p.b, x.kind,
               least(1.0, sum(least(x.tf, y.tf) * x.idf)) AS sim,
               count(*) AS shared,
               to_json(arg_max(x.key || ' (' || x.df || ' accounts)', least(x.tf, y.tf) * x.idf, {top}))
                   AS top_keys
        FROM {PAIRS} p
        JOIN {KEYS} x ON x.aid = p.a
        JOIN {KEYS} y ON y.aid = p.b AND y.kind = x.kind AND y.key = x.key
        GROUP BY p.a, p.b, x.kind
        """
    ).to_arrow_table()


def combine(scores: pa.Table, cfg: LinkConfig) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    """Apply the edge rule. Returns the kept per-kind rows and the kept pairs (a, b, weight).

    A pair is kept when one strong kind (shared payment, shared API key, lockstep) is similar
    enough on its own, or when at least `min_agreeing` independent pieces of evidence (see
    `keys.EVIDENCE_OF`) each reach `evidence_min` and the combined weight reaches `min_weight`:
    a shared benchmark alone, or a common user agent alone, links nobody.
    """
    empty = (scores.slice(0, 0), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    if scores.num_rows == 0:
        return empty
    a = scores["a"].to_numpy().astype(np.int64)
    b = scores["b"].to_numpy().astype(np.int64)
    kinds = scores["kind"].to_numpy(zero_copy_only=False)
    sim = scores["sim"].to_numpy().copy()
    shared = scores["shared"].to_numpy()
    for kind, least in cfg.min_shared.items():
        sim[(kinds == kind) & (shared < least)] = 0.0
    pair_key = a * (int(max(a.max(), b.max())) + 1) + b
    uniq, inv = np.unique(pair_key, return_inverse=True)
    weight_k = np.array([cfg.kind_weights.get(k, 0.0) for k in kinds]) * sim
    ev_idx = np.array([EVIDENCE.index(EVIDENCE_OF[k]) for k in kinds])
    ev = np.zeros((len(uniq), len(EVIDENCE)))
    np.add.at(ev, (inv, ev_idx), weight_k)
    strong_row = sim >= np.array([cfg.strong.get(k, np.inf) for k in kinds])
    strong = np.zeros(len(uniq), bool)
    np.logical_or.at(strong, inv, strong_row)
    agreeing = (ev >= cfg.evidence_min).sum(axis=1)
    total = ev.sum(axis=1)
    keep_pair = strong | ((agreeing >= cfg.min_agreeing) & (total >= cfg.min_weight))
    keep_row = keep_pair[inv] & (weight_k > 0)
    kept_rows = scores.filter(pa.array(keep_row)).append_column(
        "weight", pa.array(weight_k[keep_row], pa.float64())
    )
    first = np.zeros(len(uniq), np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    idx = first[keep_pair]
    return kept_rows, a[idx], b[idx], total[keep_pair]
