"""Cluster summaries: who is in a cluster, why, what it asks for and when.

Every summary is computed in one grouped SQL pass over all clusters, not per cluster.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import xxhash

from distillguard.link.config import LinkConfig
from distillguard.link.density import column_weights, densest_block
from distillguard.link.keys import (
    ACCT,
    EVIDENCE_OF,
    EX,
    FAMILY_OF,
    HARVEST_KINDS,
    IDENTITY_KEY_KINDS,
    KEY_NAMES,
    KEYS,
    OPERATOR_KINDS,
    sql_list,
)
from distillguard.link.lookalike import LOOKALIKE
from distillguard.link.pairs import operator_pairs

MEMBERS = "_dg_link_members"
TOP = 10  # shared infrastructure entries and templates listed per cluster
# Content a pool may hold privately: what its script sends, not what its traffic happens to share.
PRIVATE_CONTENT = ("template", "system_prompt", "tool_schema")


@dataclass
class Cluster:
    """One linked group of accounts (a candidate campaign) and the evidence that links it."""

    cluster_id: str
    members: list[str]
    exchanges: int = 0
    edge_kinds: dict[str, int] = field(default_factory=dict)  # kept edges per kind, inside the cluster
    density: float = 0.0  # FRAUDAR dense-block score in [0, 1)
    core_accounts: int = 0  # accounts in the densest block
    core_keys: int = 0  # keys (IPs, templates, windows...) in the densest block
    operator_evidence: float = (
        0.0  # share of linked pairs backed by payment, network, client, creation or cadence
    )
    shared_infrastructure: list[dict[str, Any]] = field(default_factory=list)  # kind, value, accounts
    shared_templates: list[dict[str, Any]] = field(default_factory=list)  # template, accounts, exchanges
    capabilities: dict[str, float] = field(default_factory=dict)  # share of exchanges per capability
    timeline: list[dict[str, Any]] = field(default_factory=list)  # bucket, model, exchanges
    # Per member, what ties it to the pool itself rather than to one neighbour: how many members
    # it is linked to, how many of them by operator evidence or harvest prompts, and the share of
    # its requests on the pool's private content (see `_member_ties`).
    member_ties: dict[str, dict[str, float]] = field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def size(self) -> int:
        return len(self.members)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("first_seen", "last_seen"):
            out[k] = out[k].isoformat() if out[k] is not None else None
        for row in out["timeline"]:
            row["bucket"] = (
                row["bucket"].isoformat() if hasattr(row["bucket"], "isoformat") else row["bucket"]
            )
        return out


def cluster_id(members: list[str]) -> str:
    """Stable id from the member set, so reruns over the same data give the same ids."""
    return "cl-" + xxhash.xxh64("\n".join(sorted(members)).encode()).hexdigest()[:12]


def summarize(
    con: Any,
    groups: dict[int, list[int]],
    account_ids: np.ndarray,
    kept_rows: pa.Table,
    cfg: LinkConfig,
) -> list[Cluster]:
    """Build a Cluster for each group of account numbers (largest first)."""
    if not groups:
        return []
    gids = sorted(groups, key=lambda g: (-len(groups[g]), min(groups[g])))
    clusters = {
        g: Cluster(cluster_id([account_ids[i] for i in groups[g]]), sorted(account_ids[i] for i in groups[g]))
        for g in gids
    }
    aid = np.concatenate([np.asarray(groups[g], np.int64) for g in gids])
    gid = np.concatenate([np.full(len(groups[g]), g, np.int64) for g in gids])
    con.register("_dg_link_members_arrow", pa.table({"aid": aid, "g": gid}))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {MEMBERS} AS SELECT * FROM _dg_link_members_arrow")
    con.unregister("_dg_link_members_arrow")

    links = _edge_kinds(clusters, kept_rows, aid, gid, cfg)
    _member_ties(con, clusters, links, account_ids)
    _activity(con, clusters)
    _shared_infra(con, clusters)
    _templates(con, clusters)
    _density(con, clusters, cfg)
    return [clusters[g] for g in gids]


def _no_links() -> dict[str, set[int]]:
    """A member's links by what backs them, none yet (see `_edge_kinds`)."""
    return {"links": set(), "operator": set(), "harvest": set(), "lookalike": set(), "burst": set()}


def _edge_kinds(
    clusters: dict[int, Cluster], rows: pa.Table, aid: np.ndarray, gid: np.ndarray, cfg: LinkConfig
) -> dict[int, dict[str, set[int]]]:
    """Count kept edges per kind inside each cluster and the share of operator-backed pairs; return,
    per member account number, the members it is linked to ("links"), those of them it is tied to
    by operator evidence of weight `identity_min` (`keys.OPERATOR_KINDS` less `coincidence_kinds`,
    as pool merging counts it) ("operator"), by shared harvest prompts ("harvest") and by look-alike
    ties ("lookalike", link/lookalike.py)."""
    ties: dict[int, dict[str, set[int]]] = defaultdict(_no_links)
    if rows.num_rows == 0:
        return ties
    identity: dict[tuple[int, int], set[str]] = defaultdict(set)  # per pair: its identity kinds
    g_of = dict(zip(aid.tolist(), gid.tolist(), strict=True))
    pairs: dict[int, set[tuple[int, int]]] = defaultdict(set)
    backed: dict[int, set[tuple[int, int]]] = defaultdict(set)
    operator = operator_pairs(rows, cfg)
    cols = (rows[c].to_pylist() for c in ("a", "b", "kind"))
    for a, b, kind in zip(*cols, strict=True):
        ga = g_of.get(a)
        if ga is None or ga != g_of.get(b):
            continue
        kinds = clusters[ga].edge_kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        pairs[ga].add((a, b))
        ties[a]["links"].add(b)
        ties[b]["links"].add(a)
        if kind in OPERATOR_KINDS:
            backed[ga].add((a, b))
        if kind in IDENTITY_KEY_KINDS:
            identity[(a, b)].add(EVIDENCE_OF[kind])
        if kind in HARVEST_KINDS:
            ties[a]["harvest"].add(b)
            ties[b]["harvest"].add(a)
        if kind == LOOKALIKE:
            ties[a]["lookalike"].add(b)
            ties[b]["lookalike"].add(a)
        if (a, b) in operator:
            ties[a]["operator"].add(b)
            ties[b]["operator"].add(a)
    # Links whose only identity evidence is a creation burst: what an account that signed up in the
    # same hours as a few of a pool's accounts shares with them, together with public prompts.
    for (a, b), kinds in identity.items():
        if kinds == {"creation_burst"}:
            ties[a]["burst"].add(b)
            ties[b]["burst"].add(a)
    for g, linked in pairs.items():
        clusters[g].operator_evidence = round(len(backed[g]) / len(linked), 4)
        clusters[g].edge_kinds = dict(sorted(clusters[g].edge_kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    return ties


def _member_ties(
    con: Any, clusters: dict[int, Cluster], links: dict[int, dict[str, set[int]]], account_ids: np.ndarray
) -> None:
    """Per member: `links` (members it is linked to), `operator_links` and `harvest_links` (those
    tied by operator evidence or harvest prompts), `burst_links` (those whose only identity
    evidence is a creation burst), `joined` (every link of it is a look-alike tie:
    look-alike joining added it, see link/lookalike.py), and `private_content_share`: the largest share
    of its requests on templates, system prompts or tool schemas private to its cluster — sent by
    another member, and by members for at least half of the key's other holders (the notion of
    pool attachment). A public benchmark or a popular prompt is held by many accounts outside any
    one cluster, so it is nobody's private content."""
    share: dict[int, float] = {
        int(a): float(s)
        for a, s in con.execute(
            f"""
            WITH held AS (
                SELECT k.kid, m.g, count(*) AS c FROM {KEYS} k JOIN {MEMBERS} m USING (aid)
                WHERE k.kind IN ({sql_list(PRIVATE_CONTENT)}) GROUP BY k.kid, m.g HAVING count(*) >= 2
            ), per_kind AS (
                -- Summed as decimals: a sum of doubles depends on the order DuckDB's threads
                -- meet the rows, and the rounded share would flip in its last digit.
                SELECT k.aid, k.kind,
                       least(1.0, CAST(sum(CAST(k.tf AS DECIMAL(18, 12))) AS DOUBLE)) AS s FROM {KEYS} k
                JOIN {MEMBERS} m USING (aid) JOIN held h ON h.kid = k.kid AND h.g = m.g
                WHERE h.c - 1 >= 0.5 * (k.df - 1)
                GROUP BY k.aid, k.kind
            )
            SELECT aid, max(s) FROM per_kind GROUP BY aid
            """
        ).fetchall()
    }
    for a, g in con.execute(f"SELECT aid, g FROM {MEMBERS}").fetchall():
        tie = links.get(int(a)) or _no_links()
        clusters[int(g)].member_ties[str(account_ids[int(a)])] = {
            "links": len(tie["links"]),
            "operator_links": len(tie["operator"]),
            "harvest_links": len(tie["harvest"]),
            "burst_links": len(tie["burst"]),
            "joined": bool(tie["links"]) and tie["links"] == tie["lookalike"],
            "private_content_share": round(share.get(int(a), 0.0), 4),
        }
    for c in clusters.values():
        c.member_ties = dict(sorted(c.member_ties.items()))


def _activity(con: Any, clusters: dict[int, Cluster]) -> None:
    for g, n, first, last in con.execute(
        f"SELECT m.g, sum(a.n_ex), min(a.first_ts), max(a.last_ts) FROM {MEMBERS} m "
        f"JOIN {ACCT} a USING (aid) GROUP BY m.g"
    ).fetchall():
        c = clusters[g]
        c.exchanges, c.first_seen, c.last_seen = int(n), first, last
    join = f"FROM {EX} e JOIN {MEMBERS} m USING (aid)"
    for g, cap, n in con.execute(
        f"SELECT m.g, e.capability, count(*) {join} WHERE e.capability IS NOT NULL GROUP BY ALL"
    ).fetchall():
        clusters[g].capabilities[cap] = n
    for c in clusters.values():
        total = sum(c.capabilities.values()) or 1
        ranked = sorted(c.capabilities.items(), key=lambda kv: (-kv[1], kv[0]))
        c.capabilities = {k: round(v / total, 4) for k, v in ranked}
    span = con.execute(f"SELECT max(last_ts) - min(first_ts) FROM {ACCT}").fetchall()[0][0]
    unit = "hour" if span is None or span.total_seconds() <= 3 * 86400 else "day"
    for g, when, model, n in con.execute(
        f"SELECT m.g, date_trunc('{unit}', e.ts) AS bucket, coalesce(e.model, 'unknown') AS model, count(*) "
        f"{join} GROUP BY ALL ORDER BY 1, 2, 3"
    ).fetchall():
        clusters[g].timeline.append({"bucket": when, "model": model, "exchanges": int(n)})


def _shared_infra(con: Any, clusters: dict[int, Cluster]) -> None:
    kinds = sql_list(k for k, f in FAMILY_OF.items() if f == "infrastructure")
    for g, kind, key, n in con.execute(
        f"""SELECT g, kind, key, n FROM (
              SELECT m.g, CAST(n.kind AS VARCHAR) AS kind, n.key, count(*) AS n,
                     row_number() OVER (PARTITION BY m.g ORDER BY count(*) DESC, n.kind, n.key) AS rk
              FROM {KEYS} k JOIN {MEMBERS} m USING (aid) JOIN {KEY_NAMES} n ON n.kid = k.kid
              WHERE k.kind IN ({kinds})
              GROUP BY m.g, n.kind, n.key HAVING count(*) >= 2)
            WHERE rk <= {TOP} ORDER BY g, rk"""
    ).fetchall():
        clusters[g].shared_infrastructure.append({"kind": kind, "value": key, "accounts": int(n)})


def _templates(con: Any, clusters: dict[int, Cluster]) -> None:
    for g, tpl, accounts, n in con.execute(
        f"""SELECT g, template, accounts, n FROM (
              SELECT m.g, e.template, count(DISTINCT e.aid) AS accounts, count(*) AS n,
                     row_number() OVER (PARTITION BY m.g ORDER BY count(*) DESC, e.template) AS rk
              FROM {EX} e JOIN {MEMBERS} m USING (aid)
              WHERE e.template IS NOT NULL GROUP BY m.g, e.template HAVING count(DISTINCT e.aid) >= 2)
            WHERE rk <= {TOP} ORDER BY g, rk"""
    ).fetchall():
        clusters[g].shared_templates.append({"template": tpl, "accounts": int(accounts), "exchanges": int(n)})


def _density(con: Any, clusters: dict[int, Cluster], cfg: LinkConfig) -> None:
    # The block's columns are the keys in order of their text "kind:key" (the order decides ties
    # in the peeling): `col` ranks the keys the members hold by that text, so only those are sorted.
    tab = con.sql(
        f"""
        WITH held AS (
            -- Behaviour bands are a similarity estimate, not an object the accounts share, and
            -- harvest bands restate paraphrase bands: both left out.
            SELECT m.g, k.aid, k.kid, k.df FROM {KEYS} k JOIN {MEMBERS} m USING (aid)
            WHERE k.kind NOT IN ('fingerprint', 'harvest_band')
        ), cols AS (
            SELECT kid, row_number() OVER (ORDER BY CAST(kind AS VARCHAR) || ':' || key) AS col
            FROM {KEY_NAMES} WHERE kid IN (SELECT kid FROM held)
        )
        SELECT h.g, h.aid, c.col, h.df FROM held h JOIN cols c USING (kid) ORDER BY h.g, h.aid, c.col
        """
    ).to_arrow_table()
    if tab.num_rows == 0:
        return
    g_arr = tab["g"].to_numpy()
    bounds = np.flatnonzero(np.diff(g_arr)) + 1
    starts, ends = np.r_[0, bounds], np.r_[bounds, len(g_arr)]
    aids = tab["aid"].to_numpy()
    key_cols = tab["col"].to_numpy()
    dfs = tab["df"].to_numpy()
    for s, e in zip(starts, ends, strict=True):
        _, rows = np.unique(aids[s:e], return_inverse=True)
        _, cols = np.unique(key_cols[s:e], return_inverse=True)
        block = densest_block(rows, cols, column_weights(dfs[s:e], cfg.density_c))
        c = clusters[int(g_arr[s])]
        c.density = round(block.score(cfg.density_scale), 4)
        c.core_accounts, c.core_keys = len(block.rows), len(block.cols)


def by_member(clusters: list[Cluster]) -> dict[str, str]:
    """account_id -> cluster_id."""
    out: dict[str, str] = {}
    for c in clusters:
        for m in c.members:
            out[m] = c.cluster_id
    return out


def groups_from_membership(nodes: np.ndarray, community: np.ndarray, min_size: int) -> dict[int, list[int]]:
    """Community number -> account numbers, keeping communities of at least `min_size`."""
    groups: dict[int, list[int]] = defaultdict(list)
    for node, comm in zip(nodes.tolist(), community.tolist(), strict=True):
        groups[comm].append(node)
    return {g: m for g, m in groups.items() if len(m) >= min_size}
