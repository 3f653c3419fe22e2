"""Member ties: a cluster's verdict reaches a member as far as the member is tied to the pool itself.

An eval runner linked into a harvest pool by one link (a sign-up window and public benchmark
prompts it shares with one member) inherits nothing, even though its own chain-of-thought
benchmark looks like harvest; a member held by one link too but sending the pool's private
templates inherits everything.
"""

from types import SimpleNamespace

import toyworld

from distillguard import decide
from distillguard.detect.base import DetectionContext
from distillguard.detect.coordination import CoordinatedCluster
from distillguard.detect.pool import TIE_DEFAULTS, member_tie
from distillguard.detect.pool_content import PoolHarvest
from distillguard.link.clusters import Cluster
from distillguard.link.linkage import Linkage

OUTSIDER = "eval-runner-0"
STRAGGLER = toyworld.HYDRA[0]


def _ties(**over):
    """The link stage's measurements: every hydra member linked to the others by operator
    evidence, except the straggler (one link, no operator evidence, but half its requests on the
    pool's private templates) and the outsider (one link, nothing of the pool's own)."""
    full = {"links": 7, "operator_links": 7, "harvest_links": 0, "private_content_share": 0.9}
    ties = {a: dict(full) for a in toyworld.HYDRA}
    ties[STRAGGLER] = {"links": 1, "operator_links": 0, "harvest_links": 0, "private_content_share": 0.5}
    ties[OUTSIDER] = {"links": 1, "operator_links": 0, "harvest_links": 0, "private_content_share": 0.0}
    for acc, values in over.items():
        ties[acc.replace("_", "-")] = {**ties[acc.replace("_", "-")], **values}
    return ties


def _cluster(ties):
    members = sorted([*toyworld.HYDRA, OUTSIDER])
    return Cluster("c-pool", members, density=0.9, operator_evidence=1.0, member_ties=ties)


def test_tie_paths():
    c = _cluster(_ties())
    assert member_tie(c, OUTSIDER, TIE_DEFAULTS)[0] == 0.0
    assert member_tie(c, STRAGGLER, TIE_DEFAULTS)[0] == 1.0
    assert member_tie(c, "hydra-1", TIE_DEFAULTS)[0] == 1.0
    # Linked to many of the pool's members is being one of them too.
    assert member_tie(_cluster(_ties(eval_runner_0={"links": 6})), OUTSIDER, TIE_DEFAULTS)[0] == 1.0
    assert 0.0 < member_tie(_cluster(_ties(eval_runner_0={"links": 3})), OUTSIDER, TIE_DEFAULTS)[0] < 1.0
    # In a cluster of three, a member linked to both others is linked to all of them.
    small = SimpleNamespace(cluster_id="c3", members=["a", "b", "c"], member_ties={"a": {"links": 2}})
    assert member_tie(small, "a", TIE_DEFAULTS)[0] == 1.0
    # A linkage that measured no ties lends every member the pool's evidence, as before.
    assert member_tie(SimpleNamespace(members=["a", "b"]), "a", TIE_DEFAULTS) == (1.0, None)


def test_weakly_tied_member_does_not_inherit_the_pool_verdict(ctx):
    cluster = _cluster(_ties())
    linkage = Linkage(cluster_of={a: cluster.cluster_id for a in cluster.members}, clusters=[cluster])
    dctx = DetectionContext(con=ctx.con, linkage=linkage)
    harvest = {f.subject_id: f for f in PoolHarvest().detect(dctx)}
    assert OUTSIDER not in harvest
    assert harvest[STRAGGLER].score == 1.0 and harvest[STRAGGLER].evidence["member_tie"]["tie"] == 1.0

    (pool,) = CoordinatedCluster().detect(dctx)
    weak = pool.evidence["weakly_tied_members"]
    assert [m["account_id"] for m in weak] == [OUTSIDER]
    assert weak[0]["tie"] == 0.0 and weak[0]["links"] == 1 and weak[0]["private_content_share"] == 0.0
    verdicts = {r["account_id"]: r for r in decide.fuse([*harvest.values(), pool], dctx).accounts.to_pylist()}
    assert "cluster" not in verdicts[OUTSIDER]["reasons"]
    assert "pool-harvest" not in verdicts[OUTSIDER]["reasons"]
    assert "cluster c-pool" in verdicts[STRAGGLER]["reasons"]
    assert verdicts[STRAGGLER]["risk"] > verdicts[OUTSIDER]["risk"]
    # Without the tie (every member measured as fully tied) the outsider carries both.
    tied = _cluster(_ties(eval_runner_0={"operator_links": 1}))
    linkage = Linkage(cluster_of={a: tied.cluster_id for a in tied.members}, clusters=[tied])
    dctx = DetectionContext(con=ctx.con, linkage=linkage)
    findings = [*PoolHarvest().detect(dctx), *CoordinatedCluster().detect(dctx)]
    verdicts = {r["account_id"]: r for r in decide.fuse(findings, dctx).accounts.to_pylist()}
    assert "pool-harvest" in verdicts[OUTSIDER]["reasons"] and "cluster" in verdicts[OUTSIDER]["reasons"]


def test_an_account_joined_as_a_look_alike_is_fully_tied() -> None:
    # Three look-alike ties to a four-account pool that joining has grown to twenty: the ramp on
    # links would count the other joined accounts, which it cannot resemble.
    joined = {"links": 3, "operator_links": 0, "harvest_links": 0, "private_content_share": 0.0}
    members = [f"m{i}" for i in range(20)]
    cluster = Cluster("c-pool", members, member_ties={"m0": {**joined, "joined": True}, "m1": joined})
    assert member_tie(cluster, "m0", TIE_DEFAULTS)[0] == 1.0
    assert member_tie(cluster, "m1", TIE_DEFAULTS)[0] < 0.5


def test_links_held_by_a_creation_burst_alone_do_not_tie_a_member() -> None:
    # A stranger who signed up in the same hours as four of the pool's accounts and sends the
    # public benchmark prompts they send: four links, each backed by the sign-up window alone.
    burst = {"links": 4, "burst_links": 4}
    assert member_tie(_cluster(_ties(eval_runner_0=burst)), OUTSIDER, TIE_DEFAULTS)[0] == 0.0
    # The same links backed by anything else tie it as before, and so does the pool's private content.
    assert member_tie(_cluster(_ties(eval_runner_0={"links": 4})), OUTSIDER, TIE_DEFAULTS)[0] > 0.5
    private = {**burst, "private_content_share": 0.5}
    assert member_tie(_cluster(_ties(eval_runner_0=private)), OUTSIDER, TIE_DEFAULTS)[0] == 1.0
