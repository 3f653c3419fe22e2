"""The cluster-level detector: one finding per linked pool, evidence naming links and reasons."""

from __future__ import annotations

from link_world import exchange, legit_population

from distillguard.detect.base import DetectionContext, registry
from distillguard.detect.coordination import CoordinatedCluster
from distillguard.link import Linkage, link_accounts


def _pool(rng):
    rows = []
    for i in range(12):
        for j in range(30):
            rows.append(
                exchange(
                    f"pool{i}",
                    j * 15 + float(rng.uniform(0, 2)),
                    client_ip=f"203.0.113.{int(rng.integers(1, 6))}",
                    template_id=f"t{j % 3}",
                    capability="coding",
                    model="m-1",
                )
            )
    return rows


def test_registered_as_cluster_detector():
    assert registry()["coordinated-cluster"] is CoordinatedCluster
    assert CoordinatedCluster.subject_kind == "cluster"


def test_finding_names_members_and_why_they_link(rng, make_con):
    con = make_con(legit_population(rng, n=40) + _pool(rng))
    linkage = link_accounts(con)
    findings = CoordinatedCluster().detect(DetectionContext(con=con, linkage=linkage))
    assert len(findings) == 1
    f = findings[0]
    assert f.subject_kind == "cluster" and f.subject_id == linkage.clusters[0].cluster_id
    assert set(f.evidence["members"]) == {f"pool{i}" for i in range(12)}
    link = f.evidence["links"][0]
    assert set(link["accounts"]) <= set(f.evidence["members"])
    assert link["kinds"] and all(link["shared"][k] for k in link["shared"])
    assert "12 accounts" in f.explanation
    assert f.score > 0.3


def test_no_linkage_no_findings(make_con):
    assert CoordinatedCluster().detect(DetectionContext(con=None, linkage=None)) == []
    assert CoordinatedCluster().detect(DetectionContext(con=None, linkage=Linkage())) == []
