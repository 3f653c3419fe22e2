"""Look-alike membership: an account joined to a pool without operator evidence of its own.

The link stage joins an account that resembles most of one cluster's members by content and
behaviour (edges of kind `lookalike`). `lookalike-member` gives it evidence worth what the pool is
(its cluster score: operator-backed and dense) and how much of the pool it resembles; the ties are
never read as pairwise links, so `linked-accounts` stays silent on it.
"""

import numpy as np
import orjson
import pyarrow as pa
import toyworld

from distillguard import decide
from distillguard.detect.base import DetectionContext
from distillguard.detect.coordination import CoordinatedCluster, LookalikeMember
from distillguard.detect.linked import LinkedAccounts
from distillguard.link.clusters import Cluster
from distillguard.link.linkage import EDGE_SCHEMA, Linkage

JOINED = toyworld.HYDRA[0]
POOL = toyworld.HYDRA[1:]
OPERATOR = {"links": 6, "operator_links": 6, "harvest_links": 0, "joined": False}
OPERATOR["private_content_share"] = 0.6


def _edges(joined: str, members: list[str], matched: int, kind: str = "lookalike") -> pa.Table:
    """Payment, subnet and template edges between the pool's members; `matched` look-alike ties of the joined
    account, each naming what the pair shares."""
    rows = []
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            for k in ("payment", "subnet", "template"):
                rows.append((a, b, k, 0.5, orjson.dumps({"similarity": 0.5, "top": [f"{k}-key"]}).decode()))
    for m in members[:matched]:
        top = ["template 0.2", "template: tpl-9 (8 accounts)", "fingerprint 0.6", "tool_schema 0.1"]
        rows.append((joined, m, kind, 0.9, orjson.dumps({"similarity": 0.9, "top": top}).decode()))
    cols = list(zip(*rows, strict=True))
    return pa.table(dict(zip(EDGE_SCHEMA.names, cols, strict=True)), schema=EDGE_SCHEMA)


def _linkage(
    operator_evidence: float = 1.0,
    matched: int = 7,
    joined: str = JOINED,
    members: list[str] = POOL,
    joined_flag: bool = True,
) -> Linkage:
    ties = {m: dict(OPERATOR) for m in members}
    ties[joined] = {
        "links": matched,
        "operator_links": 0,
        "harvest_links": 0,
        "joined": joined_flag,
        "private_content_share": 0.2,
    }
    cluster = Cluster(
        "c-pool",
        sorted([joined, *members]),
        density=0.9,
        operator_evidence=operator_evidence,
        edge_kinds={"payment": 21, "subnet": 21, "template": 21, "lookalike": matched},
        member_ties=ties,
    )
    return Linkage(
        cluster_of={a: "c-pool" for a in cluster.members},
        clusters=[cluster],
        edges=_edges(joined, members, matched),
    )


def _findings(ctx, linkage: Linkage) -> dict[str, object]:
    dctx = DetectionContext(con=ctx.con, linkage=linkage)
    return {f.subject_id: f for f in LookalikeMember().detect(dctx)}


def test_joined_member_of_an_operator_backed_pool_gets_evidence(ctx) -> None:
    found = _findings(ctx, _linkage())
    assert set(found) == {JOINED}, "only the joined account: its pool's members have links of their own"
    f = found[JOINED]
    assert f.score == 1.0 and f.severity == "high"
    ev = f.evidence
    assert ev["cluster_id"] == "c-pool" and ev["members_matched"] == 7 and ev["match_share"] == 1.0
    pool = _linkage().clusters[0]
    assert ev["cluster_score"] == CoordinatedCluster().score(pool, CoordinatedCluster.defaults) == 0.9
    assert {m["account_id"] for m in ev["matched"]} == set(POOL)
    assert all("template: tpl-9 (8 accounts)" in m["shared"] for m in ev["matched"])
    assert ev["member_tie"]["joined"] is True and ev["example_exchange_ids"]
    assert "c-pool" in f.explanation and "7 of the 7" in f.explanation


def test_worth_what_the_pool_is(ctx) -> None:
    # A cluster held by content links alone (eval runners, tool developers): cluster score
    # 0.9 x 0.4 = 0.36, under `pool_lo`: nothing.
    assert _findings(ctx, _linkage(operator_evidence=0.0)) == {}
    # Partly operator-backed: part of the evidence; resembling half the pool: part of it again.
    part = _findings(ctx, _linkage(operator_evidence=0.4))[JOINED].score
    half = _findings(ctx, _linkage(operator_evidence=0.4, matched=4))
    assert 0.2 < part < 0.8
    assert half == {} or half[JOINED].score < part


def test_only_look_alike_joining_gives_it(ctx) -> None:
    # The same ties on an account the link stage did not mark as joined: no finding.
    assert _findings(ctx, _linkage(joined_flag=False)) == {}
    # Ties of another kind are not look-alike ties: nothing matched, nothing emitted.
    linkage = _linkage()
    edges = _edges(JOINED, POOL, 7, kind="template")
    assert _findings(ctx, Linkage(linkage.cluster_of, linkage.clusters, edges)) == {}


def test_lookalike_ties_are_not_pairwise_links(ctx) -> None:
    dctx = DetectionContext(con=ctx.con, linkage=_linkage())
    linked = {f.subject_id for f in LinkedAccounts().detect(dctx)}
    assert JOINED not in linked
    assert set(POOL) <= linked  # the pool's own members: payment, subnet, template


def test_volume_outlier_gets_none(ctx) -> None:
    users = [f"user-{i}" for i in range(7)]
    volume = dict(ctx.con.execute("SELECT account_id, exchanges FROM account_features").fetchall())
    assert volume["router"] > 10 * np.median([volume[u] for u in users])
    assert _findings(ctx, _linkage(joined="router", members=users)) == {}


def test_the_decision_weighs_it_by_the_pool(ctx) -> None:
    model = decide.shipped()
    assert model.family("lookalike-member") == "coordination"
    strong = _findings(ctx, _linkage())[JOINED].score
    weak = _findings(ctx, _linkage(operator_evidence=0.4))[JOINED].score
    cadence = {"pool-cadence": 1.0, "round-the-clock": 1.0}
    risk = {
        s: model.risk(np.array([model.evidence({**cadence, "lookalike-member": s}, 0.7)[0]]))[0]
        for s in (strong, weak, 0.0)
    }
    assert risk[strong] > risk[weak] > risk[0.0]
    # Coordination alone, however strong, does not flag.
    alone, _ = model.evidence({"lookalike-member": 1.0}, 1.0)
    assert model.risk(np.array([alone]))[0] < model.threshold
