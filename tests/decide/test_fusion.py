"""Fusion: calibrated risk, threshold behaviour, reasons, clusters, and the two-families rule."""

import itertools
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pytest
import toyworld

from distillguard import decide, detect, features
from distillguard.detect.base import DetectionContext
from distillguard.findings import Finding

LEGIT = [
    "campus",
    "chat-product",
    "router",
    "serverless",
    "ci-agent",
    "eval-runner-0",
    "eval-runner-1",
    "eval-runner-2",
]


@dataclass
class FakeLinkage:
    cluster_of: dict[str, str] = field(default_factory=dict)
    clusters: list = field(default_factory=list)
    edges: pa.Table | None = None


def hydra_linkage() -> FakeLinkage:
    """What the link stage reports for the toy hydra pool: one cluster, multi-kind edges."""
    src, dst, kind = [], [], []
    for i, a in enumerate(toyworld.HYDRA):
        for b in toyworld.HYDRA[i + 1 :]:
            for k in ("template", "subnet", "creation_burst", "payment"):
                src.append(a)
                dst.append(b)
                kind.append(k)
    edges = pa.table(
        {"src": src, "dst": dst, "kind": kind, "weight": [0.8] * len(src), "evidence": ["{}"] * len(src)}
    )
    return FakeLinkage(cluster_of={a: "c-hydra" for a in toyworld.HYDRA}, edges=edges)


@pytest.fixture(scope="module")
def ctx(world):
    con = toyworld.connect(*world)
    features.materialize(con)
    return DetectionContext(con=con, linkage=hydra_linkage())


@pytest.fixture(scope="module")
def findings(ctx):
    cluster = Finding("coordinated-cluster", "cluster", "c-hydra", 0.9, "A dense pool.", {"members": 8})
    return [*detect.run_detectors(ctx), cluster]


@pytest.fixture(scope="module")
def verdicts(findings, ctx):
    return {r["account_id"]: r for r in decide.fuse(findings, ctx).accounts.to_pylist()}


def test_every_account_gets_a_verdict(verdicts, world):
    assert set(verdicts) == set(world[0].column("account_id").to_pylist())
    assert all(0.0 <= v["risk"] <= 1.0 for v in verdicts.values())


def test_hydra_flagged_look_alikes_clear(verdicts):
    assert all(verdicts[a]["flagged"] for a in toyworld.HYDRA)
    assert not any(verdicts[a]["flagged"] for a in LEGIT)
    assert not any(v["flagged"] for a, v in verdicts.items() if a.startswith("user-"))


def test_reasons_name_the_driving_findings(verdicts, findings):
    ids = {f.detector for f in findings}
    for v in verdicts.values():
        if v["flagged"]:
            named = [part.split(" ")[0] for part in v["reasons"].split("; ")]
            assert named and set(named) <= ids | {"cluster"}


def test_threshold_is_monotone(findings, ctx):
    flagged = [
        {r["account_id"] for r in decide.fuse(findings, ctx, t).accounts.to_pylist() if r["flagged"]}
        for t in (0.1, 0.5, 0.9, 0.999)
    ]
    assert all(hi <= lo for lo, hi in itertools.pairwise(flagged))
    with pytest.raises(ValueError, match="outside"):
        decide.fuse(findings, ctx, 1.5)


def test_no_single_detector_flags_alone():
    model = decide.shipped()
    for det in [*detect.registry(), "some-future-detector"]:
        total, _ = model.evidence({det: 1.0})
        assert model.risk(np.array([total]))[0] < model.threshold, det
    alone_in_cluster, _ = model.evidence({}, 1.0)
    assert model.risk(np.array([alone_in_cluster]))[0] < model.threshold


def test_no_family_alone_flags():
    model = decide.shipped()
    for family in set(model.families.values()):
        members = {d: 1.0 for d, f in model.families.items() if f == family}
        cluster = 1.0 if family == "coordination" else 0.0
        total, _ = model.evidence(members, cluster)
        assert model.risk(np.array([total]))[0] < model.threshold, family


def test_agreeing_families_count_more_than_either_alone():
    model = decide.shipped()
    pairs = [k for k, v in model.pair_weights.items() if v > 0]
    assert pairs, "the shipped model has no interaction between evidence families"
    fam_a, fam_b = pairs[0].split("|")
    det_a = next(d for d, f in model.families.items() if f == fam_a)
    det_b = next((d for d, f in model.families.items() if f == fam_b), "cluster")
    both, parts = model.evidence({det_a: 1.0, det_b: 1.0})
    assert both > model.evidence({det_a: 1.0})[0] + model.evidence({det_b: 1.0})[0]
    assert abs(sum(parts.values()) - both) < 1e-9


def test_context_and_pair_only_rules_never_add_alone():
    model = decide.shipped()
    for det in model.context_only:
        assert model.evidence({det: 1.0})[0] == 0.0
        assert (
            model.evidence({det: 1.0, "linked-accounts": 1.0})[0]
            == model.evidence({"linked-accounts": 1.0})[0]
        )
    for det in model.pair_only:
        assert model.evidence({det: 1.0})[0] == 0.0


def test_risk_is_monotone_and_bounded():
    model = decide.shipped()
    z = np.linspace(-100, 100, 201)
    r = model.risk(z)
    assert np.all((r >= 0) & (r <= 1)) and np.all(np.diff(r) >= 0)


def test_cluster_evidence_raises_members_and_gets_a_row(findings, ctx):
    linkage = FakeLinkage(cluster_of={"eval-runner-0": "c1", "eval-runner-1": "c1"})
    coordinated = [*findings, Finding("lockstep", "cluster", "c1", 0.9, "Linked.", {"members": 2})]
    out = decide.fuse(coordinated, DetectionContext(con=ctx.con, linkage=linkage))
    acc = {r["account_id"]: r for r in out.accounts.to_pylist()}
    base = {
        r["account_id"]: r for r in decide.fuse(findings, DetectionContext(con=ctx.con)).accounts.to_pylist()
    }
    assert acc["eval-runner-0"]["risk"] > base["eval-runner-0"]["risk"]
    assert acc["eval-runner-0"]["cluster_id"] == "c1" and "cluster c1" in acc["eval-runner-0"]["reasons"]
    (row,) = out.clusters.to_pylist()
    assert row["cluster_id"] == "c1" and row["accounts"] == 2 and 0 <= row["risk"] <= 1
    assert out.clusters.schema.equals(decide.CLUSTER_VERDICT_SCHEMA)


def test_three_kinds_of_evidence_without_links_flag():
    """A pool the link stage cannot tie (all traffic in one instant): harvest system prompts, a
    rare system prompt set shared across organisations and a fresh client per request agree;
    any two of the three alone stay below the threshold."""
    model = decide.shipped()
    scores = {"reasoning-harvest": 1.0, "shared-system-prompt": 1.0, "fingerprint-rotation": 1.0}
    total, _ = model.evidence(scores)
    assert model.risk(np.array([total]))[0] >= model.threshold
    for pair in itertools.combinations(scores, 2):
        two, _ = model.evidence({d: 1.0 for d in pair})
        assert model.risk(np.array([two]))[0] < model.threshold, pair


def test_volume_outlier_is_not_lent_its_cluster_score(findings, ctx):
    """A member sending many times the median member's traffic (an eval runner drawn into a
    classroom's cluster) is not one of the pool's workers: the cluster's score is not its evidence."""
    linkage = FakeLinkage(cluster_of={"eval-runner-0": "c1", "eval-runner-1": "c1"})
    outlier = {"volume_outliers": [{"account_id": "eval-runner-0", "exchanges": 900}]}
    coordinated = [*findings, Finding("lockstep", "cluster", "c1", 0.9, "Linked.", outlier)]
    acc = {
        r["account_id"]: r
        for r in decide.fuse(coordinated, DetectionContext(con=ctx.con, linkage=linkage)).accounts.to_pylist()
    }
    base = {
        r["account_id"]: r for r in decide.fuse(findings, DetectionContext(con=ctx.con)).accounts.to_pylist()
    }
    assert acc["eval-runner-0"]["risk"] == base["eval-runner-0"]["risk"]
    assert "cluster c1" not in acc["eval-runner-0"]["reasons"]
    assert acc["eval-runner-1"]["risk"] > base["eval-runner-1"]["risk"]


@dataclass
class FakeCluster:
    cluster_id: str
    members: list
    member_ties: dict


def test_workers_of_a_flagged_cluster_are_flagged_with_it(findings, ctx):
    """A member linked to a flagged pool by operator evidence, or joined to it as a look-alike,
    takes the pool's risk; a member held by content alone (attached), a weakly tied member and a
    volume outlier keep their own."""
    pool = [*toyworld.HYDRA, "ci-agent", "router", "eval-runner-2", "campus", "user-0"]
    ties = {a: {"links": 3, "operator_links": 1, "harvest_links": 0} for a in pool}
    ties["router"] = {"links": 0, "operator_links": 0, "harvest_links": 0, "private_content_share": 0.4}
    ties["user-0"] = {"links": 12, "operator_links": 0, "harvest_links": 0, "joined": True}
    linkage = FakeLinkage(
        cluster_of={a: "c-pool" for a in pool}, clusters=[FakeCluster("c-pool", pool, ties)]
    )
    evidence = {
        "weakly_tied_members": [{"account_id": "eval-runner-2", "tie": 0.3}],
        "volume_outliers": [{"account_id": "campus", "exchanges": 5000}],
    }
    coordinated = [*findings, Finding("lockstep", "cluster", "c-pool", 0.9, "Linked.", evidence)]
    out = decide.fuse(coordinated, DetectionContext(con=ctx.con, linkage=linkage))
    (cluster,) = out.clusters.to_pylist()
    assert cluster["flagged"]
    acc = {r["account_id"]: r for r in out.accounts.to_pylist()}
    worker = acc["ci-agent"]
    assert worker["flagged"] and worker["risk"] == pytest.approx(cluster["risk"], abs=1e-6)
    assert worker["reasons"].startswith("worker of flagged cluster c-pool")
    assert not acc["eval-runner-2"]["flagged"] and not acc["campus"]["flagged"]
    assert not acc["router"]["flagged"] and "worker" not in acc["router"]["reasons"]
    assert acc["user-0"]["flagged"] and acc["user-0"]["reasons"].startswith("worker of flagged cluster")
    # Below the threshold the cluster lends nothing beyond its score.
    high = decide.fuse(coordinated, DetectionContext(con=ctx.con, linkage=linkage), threshold=0.9999999)
    assert not {r["account_id"]: r for r in high.accounts.to_pylist()}["ci-agent"]["flagged"]
