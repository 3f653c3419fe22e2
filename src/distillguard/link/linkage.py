"""link_accounts: from exchanges (and the optional accounts table) to linked clusters."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from distillguard.link import content, fingerprint, infrastructure, timing
from distillguard.link.attach import attach_to_clusters
from distillguard.link.clusters import Cluster, by_member, groups_from_membership, summarize
from distillguard.link.config import LinkConfig
from distillguard.link.graph import communities, merge_operator_linked
from distillguard.link.keys import ACCT, build_exchanges, build_keys, set_templates, view_columns
from distillguard.link.lookalike import join_lookalikes
from distillguard.link.pairs import (
    PAIRS,
    build_candidates,
    combine,
    drop_same_org,
    operator_backable,
    operator_pairs,
    score_shared_keys,
    top_shared_keys,
)

OPERATOR_PAIRS = "_dg_link_pairs_operator"
BRIDGE_PAIRS = "_dg_link_pairs_bridge"
# Kinds whose similarity is not the shared-key sum: lockstep (excess over chance), behaviour (cosine).
SCORED_ELSEWHERE = ("lockstep", "fingerprint")

EDGE_SCHEMA = pa.schema(
    [
        pa.field("src", pa.string()),
        pa.field("dst", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("weight", pa.float64()),
        pa.field("evidence", pa.string()),  # JSON: similarity, shared keys, top shared keys
    ]
)


@dataclass
class Linkage:
    """The account graph's result. `cluster_of` maps only accounts in a cluster of >= 2."""

    cluster_of: dict[str, str] = field(default_factory=dict)
    clusters: list[Cluster] = field(default_factory=list)
    edges: pa.Table = field(default_factory=EDGE_SCHEMA.empty_table)
    stats: dict[str, Any] = field(default_factory=dict)  # counts and timings per step

    def cluster(self, cluster_id: str) -> Cluster | None:
        return next((c for c in self.clusters if c.cluster_id == cluster_id), None)


def link_accounts(
    con: Any,
    config: dict[str, Any] | LinkConfig | None = None,
    *,
    templates: Callable[[], pa.Table] | None = None,
) -> Linkage:
    """Link the accounts of the `exchanges` view (and `accounts`, when present) into clusters.

    Works from exchanges alone; every column beyond account_id and ts is optional and a missing one
    only removes the edge kinds built on it. Deterministic for a fixed `seed`. Leaves no tables
    behind on `con` (its temporary tables are dropped).

    The view's template_id is read unless `templates` is given: then the template grouping is still
    running (beside this stage), and link builds the keys that do not read templates first, then
    calls `templates()` for the grouping's (skeleton_hash, template_id) — it waits for it — and
    completes the rest. The Linkage is the same either way.
    """
    cfg = config if isinstance(config, LinkConfig) else LinkConfig.from_dict(config)
    ex_cols = view_columns(con, "exchanges")
    if not cfg.enabled or not {"account_id", "ts"} <= ex_cols:
        return Linkage(stats={"accounts": 0, "reason": "disabled or no exchanges"})
    acct_cols = view_columns(con, "accounts")
    stats: dict[str, Any] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stats[f"{name}_s"] = round(now - clock, 3)
        clock = now

    try:
        n = build_exchanges(con, ex_cols, templates=templates is None)
        stats["accounts"] = n
        if n < 2:
            return Linkage(stats=stats)
        behaviour = fingerprint.Fingerprints(con, ex_cols, cfg)
        specs = (
            infrastructure.key_specs(con, acct_cols, cfg, stats)
            + content.key_specs(ex_cols, cfg.harvest_band_min_signal, cfg.harvest_band_min_exchanges)
            + timing.key_specs(cfg)
            + behaviour.key_specs()
        )
        later = (lambda: set_templates(con, templates())) if templates is not None else None
        blocking_kinds = build_keys(con, specs, n, later=later)
        lap("keys")
        stats["candidate_pairs"] = build_candidates(con, cfg, n, blocking_kinds)
        if not cfg.link_within_org and "org_id" in acct_cols:
            stats["same_org_pairs_dropped"] = drop_same_org(con)
        lap("candidates")
        scores = _score_candidates(con, behaviour, cfg, stats)
        lap("scores")
        kept_rows, a, b, w = combine(scores, cfg)
        kept_rows = top_shared_keys(con, kept_rows, skip=("fingerprint",))
        stats["edges"] = len(a)
        nodes, comm = communities(a, b, w, seed=cfg.seed, resolution=cfg.resolution)
        if len(a):
            before = len(np.unique(comm))
            backed = operator_pairs(kept_rows, cfg)
            comm = merge_operator_linked(
                comm,
                np.searchsorted(nodes, a),
                np.searchsorted(nodes, b),
                np.array([pair in backed for pair in zip(a.tolist(), b.tolist(), strict=True)], bool),
                ratio=cfg.merge_operator_ratio,
                min_links=cfg.merge_min_links,
            )
            stats["communities_merged"] = before - len(np.unique(comm))
        lap("leiden")
        account_ids = np.asarray(
            con.sql(f"SELECT account_id FROM {ACCT} ORDER BY aid").to_arrow_table()["account_id"].to_pylist(),
            dtype=object,
        )
        groups = groups_from_membership(nodes, comm, cfg.min_cluster_size)
        groups, joined = join_lookalikes(
            con, groups, cfg, lambda pairs: _scored(con, pairs, behaviour, cfg), (a, b), scores, stats
        )
        if joined is not None and joined.num_rows:
            joined = joined.select(kept_rows.column_names).cast(kept_rows.schema)
            kept_rows = pa.concat_tables([kept_rows, joined])
        groups = attach_to_clusters(con, groups, cfg, ex_cols, stats)
        lap("attach")
        clusters = summarize(con, groups, account_ids, kept_rows, cfg)
        stats["clusters"] = len(clusters)
        lap("summaries")
        return Linkage(by_member(clusters), clusters, _edge_table(kept_rows, account_ids), stats)
    finally:
        _drop_temp_tables(con)


def _scored(con: Any, pairs: str, behaviour: fingerprint.Fingerprints, cfg: LinkConfig) -> pa.Table:
    """All per-kind rows of the pairs in table `pairs`, as `combine` takes them."""
    return pa.concat_tables(_score(con, pairs, behaviour, cfg))


def _score(con: Any, pairs: str, behaviour: fingerprint.Fingerprints, cfg: LinkConfig) -> list[pa.Table]:
    """Per-kind rows of the pairs in table `pairs`: [shared-key kinds, behaviour], each sorted by pair."""
    lockstep = timing.build_lockstep(con, pairs, cfg)
    shared = score_shared_keys(con, {"lockstep": lockstep}, skip=("fingerprint",), pairs=pairs)
    ab = con.sql(f"SELECT a, b FROM {pairs} ORDER BY a, b").fetchnumpy()
    cosine = behaviour.score(ab["a"], ab["b"])  # its evidence is written already: no top_kids
    cosine = cosine.add_column(5, "top_kids", pa.nulls(cosine.num_rows, shared.schema.field("top_kids").type))
    return [shared, cosine.cast(shared.schema)]


def _score_candidates(
    con: Any, behaviour: fingerprint.Fingerprints, cfg: LinkConfig, stats: dict[str, Any]
) -> pa.Table:
    """Score the candidate pairs the edge rule could keep.

    With `require_identity`, a pair without operator evidence (payment, API key, network, client,
    creation burst, email domain, cadence) of weight `identity_min` can only become a content
    bridge, and a bridge only joins two accounts that already have an operator-backed edge. So
    the pairs with enough operator evidence are scored first (those kinds alone tell which);
    of the others, only those between two such accounts are. The edge rule's outcome is the one
    it has on all candidates, at a fraction of the cost."""
    prunable = (
        cfg.require_identity
        and cfg.identity_min > 0
        and all(v > 0 for v in cfg.strong.values())
        and not set(cfg.strong) & set(SCORED_ELSEWHERE)
    )
    if not prunable:
        stats["scored_pairs"] = stats.get("candidate_pairs", 0)
        return _scored(con, PAIRS, behaviour, cfg)
    operator_backable(con, cfg, PAIRS, OPERATOR_PAIRS)
    first = _score(con, OPERATOR_PAIRS, behaviour, cfg)
    _, a, b, _ = combine(pa.concat_tables(first), cfg)
    backed = pa.table({"aid": pa.array(np.unique(np.concatenate([a, b])), pa.int32())})
    con.register("_dg_link_backed_arrow", backed)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {BRIDGE_PAIRS} AS
        SELECT p.a, p.b FROM {PAIRS} p
        SEMI JOIN _dg_link_backed_arrow x ON x.aid = p.a
        SEMI JOIN _dg_link_backed_arrow y ON y.aid = p.b
        ANTI JOIN {OPERATOR_PAIRS} o ON o.a = p.a AND o.b = p.b
        """
    )
    con.unregister("_dg_link_backed_arrow")
    second = _score(con, BRIDGE_PAIRS, behaviour, cfg)
    stats["scored_pairs"] = int(
        con.execute(
            f"SELECT (SELECT count(*) FROM {OPERATOR_PAIRS}) + (SELECT count(*) FROM {BRIDGE_PAIRS})"
        ).fetchall()[0][0]
    )
    # The same row order as scoring all candidates at once: shared-key rows, then behaviour rows.
    shared = pa.concat_tables([first[0], second[0]]).sort_by(
        [("a", "ascending"), ("b", "ascending"), ("kind", "ascending")]
    )
    behaviour_rows = pa.concat_tables([first[1], second[1]]).sort_by([("a", "ascending"), ("b", "ascending")])
    return pa.concat_tables([shared, behaviour_rows])


def _edge_table(rows: pa.Table, account_ids: np.ndarray) -> pa.Table:
    if rows.num_rows == 0:
        return EDGE_SCHEMA.empty_table()
    a = rows["a"].to_numpy()
    b = rows["b"].to_numpy()
    evidence = [
        orjson.dumps(
            {"similarity": round(s, 4), "shared_keys": n, "top": orjson.loads(t) if t else []}
        ).decode()
        for s, n, t in zip(
            rows["sim"].to_pylist(), rows["shared"].to_pylist(), rows["top_keys"].to_pylist(), strict=True
        )
    ]
    return pa.table(
        {
            "src": pa.array(account_ids[a].tolist(), pa.string()),
            "dst": pa.array(account_ids[b].tolist(), pa.string()),
            "kind": rows["kind"].cast(pa.string()),
            "weight": rows["weight"],
            "evidence": pa.array(evidence, pa.string()),
        },
        schema=EDGE_SCHEMA,
    )


def _drop_temp_tables(con: Any) -> None:
    for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '_dg_link_%'"
    ).fetchall():
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
