"""pool-harvest: a linked pool whose typical member harvests, against people linked as tightly."""

from types import SimpleNamespace

import toyworld

from distillguard.detect.base import DetectionContext
from distillguard.detect.pool_content import PoolHarvest


def _cluster(cid, members):
    return SimpleNamespace(cluster_id=cid, members=list(members), edge_kinds={})


def _findings(ctx, clusters, config=None):
    linked = DetectionContext(con=ctx.con, linkage=SimpleNamespace(clusters=clusters), config=config or {})
    return PoolHarvest().detect(linked)


def test_harvest_pool_scores_every_member(ctx):
    scores = {f.subject_id: f.score for f in _findings(ctx, [_cluster("c-hydra", toyworld.HYDRA)])}
    assert set(scores) == set(toyworld.HYDRA)
    assert min(scores.values()) == 1.0


def test_people_linked_together_do_not_score(ctx):
    users = [f"user-{k}" for k in range(toyworld.N_USERS)]
    assert _findings(ctx, [_cluster("c-users", users)]) == []


def test_one_harvesting_member_does_not_colour_a_pool_of_people(ctx):
    users = [f"user-{k}" for k in range(12)]
    assert _findings(ctx, [_cluster("c-mixed", [*users, toyworld.HYDRA[0]])]) == []


def test_small_pools_and_disabled_rule_stay_silent(ctx):
    assert _findings(ctx, [_cluster("c-two", toyworld.HYDRA[:2])]) == []
    off = {"pool-harvest": {"enabled": False}}
    assert _findings(ctx, [_cluster("c-hydra", toyworld.HYDRA)], off) == []
    assert PoolHarvest().detect(DetectionContext(con=ctx.con)) == []


def test_finding_names_its_evidence(ctx):
    f = _findings(ctx, [_cluster("c-h", toyworld.HYDRA)])[0]
    assert f.explanation.endswith(".")
    ev = f.evidence
    assert ev["cluster_id"] == "c-h" and ev["members"] == len(toyworld.HYDRA)
    assert ev["median_harvest_share"] > 0.5 and ev["thresholds"]["harvest_hi"] == 0.25
    assert ev["example_exchange_ids"] and ev["pool_example_exchange_ids"]
