"""Look-alike joining: an account without operator evidence that resembles one cluster as a whole.

An edge needs evidence of a common operator (`LinkConfig.require_identity`): content and behaviour
alone are what independent eval runners or students share. A pool whose accounts sign up alone,
pay with their own cards and send from a cloud provider's ranges leaves some of its accounts with
no such evidence against anyone, while every other member is held by a creation burst it shares
with a few. Such an account sends the pool's templates with the pool's tools, system prompts and
parameters: pair by pair the evidence is "only" content and behaviour, but it is that evidence
with many of the cluster's members at once, which chance does not produce.

An account in no cluster, with enough traffic for a behaviour fingerprint
(`fingerprint_min_exchanges`; smaller stragglers are what pool attachment, `attach.py`, is for),
joins cluster C when, among C's members, at least `join_member_share` × |C| (half) — or
cohesion(C) when that is fewer but at least `join_min_members` — are candidate pairs of it whose
evidence passes the weak-edge rule without the operator requirement (at least `min_agreeing`
independent kinds of `evidence_min`, `min_weight` together). cohesion(C) is the number of such
pairs C's own members have with one another, counted on content, timing and behaviour (their
operator evidence is what made them members), at the `join_member_quantile` of its members
(rounded down to a member's count): a pool that sends one template is look-alike pair by pair and
the share is its test; a pool that forwards real users' prompts is held together by few
look-alike pairs per member (about 13 of 55 on a training world, where legitimate accounts with
as many candidate pairs to it had none), and an outsider as tied as its least tied quarter of
members belongs to it as much. A cluster whose members hardly resemble one another (cohesion
below `join_min_members`) keeps the share: it is held by operator evidence, not look-alikes.
The pairs that pass are kept as edges of one kind, LOOKALIKE, whose evidence names what the
account shares with each member: the account belongs to the cluster and takes its verdict, but
these ties are not pairwise links of their own (they are what an eval runner shares with the eval
runners it resembles). Only clusters with that many candidate pairs to the account are scored:
pairs blocking proposed already.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from distillguard.link.config import LinkConfig
from distillguard.link.keys import ACCT, IDENTITY_KEY_KINDS
from distillguard.link.pairs import PAIRS, combine, top_shared_keys

JOIN_MEMBERS = "_dg_link_join_members"
JOIN_PAIRS = "_dg_link_join_pairs"
LOOKALIKE = "lookalike"  # the edge kind of a joined account's ties to the cluster's members


def join_lookalikes(
    con: Any,
    groups: dict[int, list[int]],
    cfg: LinkConfig,
    score: Any,
    kept: tuple[np.ndarray, np.ndarray],
    scored: pa.Table,
    stats: dict[str, Any],
) -> tuple[dict[int, list[int]], pa.Table | None]:
    """`groups` with the look-alike accounts added, and one LOOKALIKE row per pair that tied them
    (or None), less the pairs in `kept` (edges already). `score(table)` scores the candidate pairs
    of a table (a, b) as the link stage does; `scored` holds the per-kind rows of the pairs it
    scored already (every candidate pair of two members among them). Records the number joined
    in `stats["joined"]`."""
    stats["joined"] = 0
    if not groups or cfg.join_member_share <= 0:
        return groups, None
    aid = np.concatenate([np.asarray(m, np.int64) for m in groups.values()])
    gid = np.concatenate([np.full(len(m), g, np.int64) for g, m in groups.items()])
    cohesion = _cohesion(groups, scored, cfg)
    need = {g: _need(len(m), cohesion[g], cfg) for g, m in groups.items()}
    con.register(
        "_dg_link_join_arrow",
        pa.table({"aid": aid.astype(np.int32), "g": gid, "need": [need[g] for g in gid.tolist()]}),
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {JOIN_MEMBERS} AS SELECT * FROM _dg_link_join_arrow")
    con.unregister("_dg_link_join_arrow")
    # (outsider, cluster) with enough candidate pairs to the cluster's members; their pairs only.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {JOIN_PAIRS} AS
        WITH touching AS (
            SELECT CASE WHEN ma.aid IS NULL THEN p.a ELSE p.b END AS x,
                   coalesce(ma.g, mb.g) AS g, coalesce(ma.need, mb.need) AS need, p.a, p.b
            FROM {PAIRS} p
            LEFT JOIN {JOIN_MEMBERS} ma ON ma.aid = p.a
            LEFT JOIN {JOIN_MEMBERS} mb ON mb.aid = p.b
            WHERE (ma.aid IS NULL) <> (mb.aid IS NULL)
        ), enough AS (
            SELECT t.x, t.g FROM touching t JOIN {ACCT} a ON a.aid = t.x
            WHERE a.n_ex >= {int(cfg.fingerprint_min_exchanges)}
            GROUP BY t.x, t.g HAVING count(*) >= any_value(t.need)
        )
        SELECT t.a, t.b, t.x, t.g FROM touching t SEMI JOIN enough e ON e.x = t.x AND e.g = t.g
        """
    )
    n_pairs = int(con.execute(f"SELECT count(*) FROM {JOIN_PAIRS}").fetchall()[0][0])
    stats["join_pairs"] = n_pairs
    if n_pairs == 0:
        return groups, None
    rows, a, b, _ = combine(score(JOIN_PAIRS), cfg.model_copy(update={"require_identity": False}))
    if len(a) == 0:
        return groups, None
    # Which passing pairs belong to which (outsider, cluster): the pair table knows.
    tied = con.execute(f"SELECT a, b, x, g FROM {JOIN_PAIRS}").fetchnumpy()
    passed = set(zip(a.tolist(), b.tolist(), strict=True))
    count: dict[tuple[int, int], int] = {}
    for pa_, pb_, x, g in zip(*(tied[c].tolist() for c in ("a", "b", "x", "g")), strict=True):
        if (pa_, pb_) in passed:
            count[(x, g)] = count.get((x, g), 0) + 1
    best: dict[int, tuple[int, int]] = {}
    for (x, g), n in count.items():
        if n >= need[g] and (x not in best or (n, -g) > (best[x][0], -best[x][1])):
            best[x] = (n, g)
    if not best:
        return groups, None
    out = {g: list(m) for g, m in groups.items()}
    for x, (_, g) in sorted(best.items()):
        out[g].append(int(x))
    stats["joined"] = len(best)
    # Keep the rows of the pairs between each joined account and the cluster it joined.
    member_of = {int(m): g for g, ms in groups.items() for m in ms}
    edges = set(zip(kept[0].tolist(), kept[1].tolist(), strict=True))

    def joined_to(x: int, y: int) -> bool:  # x joined the cluster y is a member of
        return x in best and best[x][1] == member_of.get(y)

    keep = np.array(
        [
            (x, y) not in edges and (joined_to(x, y) or joined_to(y, x))
            for x, y in zip(rows["a"].to_pylist(), rows["b"].to_pylist(), strict=True)
        ],
        dtype=bool,
    )
    return out, _lookalike_rows(top_shared_keys(con, rows.filter(pa.array(keep)), skip=("fingerprint",)))


def _need(members: int, cohesion: int, cfg: LinkConfig) -> int:
    """How many of a cluster's members an outsider must resemble to join it: half of them (the
    share), or the cluster's cohesion when that is fewer — but only a cohesion of at least
    `join_min_members`: a cluster whose members hardly resemble one another (held together by
    operator evidence alone) is no pool of look-alikes, and the share stays its test."""
    need = math.ceil(cfg.join_member_share * members)
    if cohesion >= cfg.join_min_members:
        need = min(need, cohesion)
    return max(int(cfg.join_min_members), need)


def _cohesion(groups: dict[int, list[int]], scored: pa.Table, cfg: LinkConfig) -> dict[int, int]:
    """Per cluster: with how many of its other members a member has a look-alike pair, at the
    `join_member_quantile` of its members (the cluster's size when the bound is off). A look-alike
    pair passes the weak-edge rule without the operator requirement on its content, timing and
    behaviour alone: the members' operator evidence is what an outsider lacks."""
    if cfg.join_member_quantile <= 0 or scored.num_rows == 0:
        return {g: len(m) for g, m in groups.items()}
    a = scored["a"].to_numpy().astype(np.int64)
    b = scored["b"].to_numpy().astype(np.int64)
    group_of = np.full(int(max(a.max(), b.max(), max(max(m) for m in groups.values()))) + 1, -1, np.int64)
    for g, members in groups.items():
        group_of[np.asarray(members, np.int64)] = g
    operator = np.isin(scored["kind"].to_numpy(zero_copy_only=False), sorted(IDENTITY_KEY_KINDS))
    inside = (group_of[a] >= 0) & (group_of[a] == group_of[b]) & ~operator
    lookalike = cfg.model_copy(update={"require_identity": False})
    _, pa_, pb_, _ = combine(scored.filter(pa.array(inside)), lookalike)
    pairs = np.bincount(np.concatenate([pa_, pb_]), minlength=len(group_of))
    return {
        g: int(np.quantile(pairs[np.asarray(m, np.int64)], cfg.join_member_quantile, method="lower"))
        for g, m in groups.items()
    }


def _lookalike_rows(rows: pa.Table) -> pa.Table:
    """One row of kind LOOKALIKE per pair: weight the pair's total, `shared` its number of kinds,
    evidence each kind's weight and first shared keys. Per-kind rows would read as pairwise links
    of their own (three kinds from two families make a strong link in `detect.linked`); the
    account's tie is to the cluster."""
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    for a, b, kind, weight, top in zip(
        *(rows[c].to_pylist() for c in ("a", "b", "kind", "weight", "top_keys")), strict=True
    ):
        pair = pairs.setdefault((a, b), {"weight": 0.0, "kinds": 0, "top": []})
        pair["weight"] += weight
        pair["kinds"] += 1
        pair["top"].append(f"{kind} {weight:.3f}")
        pair["top"] += [f"{kind}: {key}" for key in (orjson.loads(top) if top else [])[:2]]
    return pa.table(
        {
            "a": pa.array([a for a, _ in pairs], rows.schema.field("a").type),
            "b": pa.array([b for _, b in pairs], rows.schema.field("b").type),
            "kind": pa.array([LOOKALIKE] * len(pairs), pa.string()),
            "sim": pa.array([min(1.0, p["weight"]) for p in pairs.values()], pa.float64()),
            "shared": pa.array([p["kinds"] for p in pairs.values()], rows.schema.field("shared").type),
            "top_keys": pa.array([orjson.dumps(p["top"]).decode() for p in pairs.values()], pa.string()),
            "weight": pa.array([p["weight"] for p in pairs.values()], pa.float64()),
        }
    )
