"""linked-accounts: many neighbours tied by several independent kinds of evidence, not one."""

from dataclasses import dataclass

import pyarrow as pa

from distillguard.detect.base import DetectionContext
from distillguard.detect.linked import LinkedAccounts


@dataclass
class Edges:
    edges: pa.Table


def _edges(rows):
    src, dst, kind = zip(*rows, strict=True)
    n = len(rows)
    return pa.table({"src": src, "dst": dst, "kind": kind, "weight": [0.7] * n, "evidence": ["{}"] * n})


def _pool(prefix, size, kinds):
    members = [f"{prefix}{i}" for i in range(size)]
    return [(a, b, k) for i, a in enumerate(members) for b in members[i + 1 :] for k in kinds]


def test_pool_with_shared_content_and_infrastructure_is_linked(ctx):
    rows = _pool("hydra-", 8, ["template", "subnet", "creation_burst"])
    found = LinkedAccounts().detect(DetectionContext(con=ctx.con, linkage=Edges(_edges(rows))))
    by = {f.subject_id: f for f in found}
    assert set(by) == {f"hydra-{i}" for i in range(8)}
    f = by["hydra-0"]
    assert f.score == 1.0 and f.evidence["strong_links"] == 7
    assert {"content", "infrastructure"} <= set(f.evidence["families"])
    assert f.evidence["links"][0]["kinds"] and f.evidence["example_exchange_ids"]


def test_popular_prompts_or_release_day_timing_alone_do_not_link(ctx):
    # eval runners: the same public benchmark, at the same release hour, nothing else in common
    rows = _pool("eval-runner-", 3, ["template", "lockstep"]) + _pool("user-", 20, ["template"])
    found = LinkedAccounts().detect(DetectionContext(con=ctx.con, linkage=Edges(_edges(rows))))
    assert found == []


def test_an_ip_restating_its_subnet_counts_once(ctx):
    rows = _pool("user-", 6, ["ip", "subnet", "template"])
    found = LinkedAccounts().detect(DetectionContext(con=ctx.con, linkage=Edges(_edges(rows))))
    assert found == []  # ip and subnet are one piece of evidence: two kinds, not three


def test_no_linkage_no_findings(ctx):
    assert LinkedAccounts().detect(DetectionContext(con=ctx.con)) == []


def test_a_heavy_account_tied_to_light_ones_is_not_a_pool_worker(ctx):
    # the router (1,500 requests) shares a template, a network and a behaviour with people
    # sending 5-29 requests: the link stage may tie them, but they are not interchangeable workers
    rows = [("router", f"user-{i}", k) for i in range(8) for k in ("template", "subnet", "fingerprint")]
    found = LinkedAccounts().detect(DetectionContext(con=ctx.con, linkage=Edges(_edges(rows))))
    assert "router" not in {f.subject_id for f in found}
    paid = rows + [("router", f"user-{i}", "payment") for i in range(8)]
    found = LinkedAccounts().detect(DetectionContext(con=ctx.con, linkage=Edges(_edges(paid))))
    assert "router" in {f.subject_id for f in found}
