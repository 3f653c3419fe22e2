"""pool-cadence: a linked pool that runs like one machine, against people linked as tightly."""

from types import SimpleNamespace

import numpy as np
import toyworld

from distillguard.detect.base import DetectionContext
from distillguard.detect.pool import PoolCadence, quiet_share


def _cluster(cid, members, lockstep=0):
    return SimpleNamespace(cluster_id=cid, members=list(members), edge_kinds={"lockstep": lockstep})


def _scores(ctx, clusters, config=None):
    linked = DetectionContext(con=ctx.con, linkage=SimpleNamespace(clusters=clusters), config=config or {})
    return {f.subject_id: f.score for f in PoolCadence().detect(linked)}


def test_quiet_share_flat_and_diurnal():
    assert quiet_share(np.full(24, 10.0)) == 1.0
    day = np.zeros(24)
    day[8:22] = 10.0
    assert quiet_share(day) == 0.0
    assert quiet_share(np.zeros(24)) == 0.0


def test_round_the_clock_pool_scores_its_members(ctx):
    scores = _scores(ctx, [_cluster("c-hydra", toyworld.HYDRA)])
    assert set(scores) == set(toyworld.HYDRA)
    assert min(scores.values()) > 0.5


def test_people_with_a_night_do_not_score(ctx):
    users = [f"user-{k}" for k in range(toyworld.N_USERS)]
    assert _scores(ctx, [_cluster("c-users", users)]) == {}


def test_lockstep_density_alone_scores(ctx):
    users = [f"user-{k}" for k in range(toyworld.N_USERS)]
    pairs = len(users) * (len(users) - 1) // 2
    scores = _scores(ctx, [_cluster("c-users", users, lockstep=pairs)])
    assert set(scores) == set(users) and min(scores.values()) > 0.5


def test_small_pools_and_disabled_rule_stay_silent(ctx):
    assert _scores(ctx, [_cluster("c-two", toyworld.HYDRA[:2], lockstep=1)]) == {}
    off = {"pool-cadence": {"enabled": False}}
    assert _scores(ctx, [_cluster("c-hydra", toyworld.HYDRA)], off) == {}


def test_no_linkage_no_findings(ctx):
    assert PoolCadence().detect(DetectionContext(con=ctx.con)) == []


def test_finding_names_its_evidence(ctx):
    linked = DetectionContext(
        con=ctx.con, linkage=SimpleNamespace(clusters=[_cluster("c-h", toyworld.HYDRA)])
    )
    f = PoolCadence().detect(linked)[0]
    assert f.explanation.endswith(".")
    assert f.evidence["cluster_id"] == "c-h" and f.evidence["members"] == len(toyworld.HYDRA)
    assert f.evidence["quiet_share"] > 0.8 and f.evidence["thresholds"]["flat_hi"] == 0.85
