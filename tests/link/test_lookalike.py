"""Look-alike joining: an account with no operator evidence joins the cluster it resembles as a
whole — half its members, or in a loosely knit pool as many as its members resemble one another —
and an account resembling only a few members, or too small to fingerprint, does not."""

from __future__ import annotations

from typing import Any

import numpy as np
from link_world import exchange, legit_population, random_ip

from distillguard.link import link_accounts

POOL_TEMPLATES = [f"pool-t{i}" for i in range(8)]


def _pool_rows(name: str, i: int, rng: np.random.Generator, ip: str | None, n: int = 40) -> list[dict]:
    """`n` requests of the pool's script: its templates, tools, model and parameters, every 30 min."""
    return [
        exchange(
            name,
            j * 30 + i + float(rng.uniform(0, 3)),
            client_ip=ip or random_ip(rng),
            user_agent="python-httpx/0.27.0",
            template_id=POOL_TEMPLATES[(i + j) % len(POOL_TEMPLATES)],
            tool_schema_fp="pool-tools",
            capability="coding",
            model="m-1",
            temperature=0.2,
            max_tokens=8192,
            thinking_requested=True,
            thinking_budget=8000,
        )
        for j in range(n)
    ]


def _world(rng: np.random.Generator) -> list[dict]:
    """A 10-account pool on one /24, 60 unrelated accounts, and three accounts from fresh
    addresses (no operator evidence against anyone):
    - `lookalike` runs the pool's script in full;
    - `small` runs it too, but sends 4 requests (too few for a behaviour fingerprint);
    - `twin` uses the same client and parameters with prompts and tools of its own (one SDK's
      defaults: behaviour alike, content not);
    - `partial` runs the pool's script on two of its eight templates and sends its own chat
      prompts otherwise (a reseller's account: harvest mixed with its customers' requests)."""
    rows = legit_population(rng, n=60)
    for i in range(10):
        rows += _pool_rows(f"pool{i}", i, rng, ip=f"198.51.100.{int(rng.integers(1, 40))}")
    rows += _pool_rows("lookalike", 3, rng, ip=None)
    rows += _pool_rows("small", 5, rng, ip=None, n=4)
    twin = _pool_rows("twin", 7, rng, ip=None)
    for j, row in enumerate(twin):
        row.update(template_id=f"twin-own-{j}", tool_schema_fp="twin-tools")
    partial = _pool_rows("partial", 7, rng, ip=None)
    for j, row in enumerate(partial):
        if row["template_id"] not in POOL_TEMPLATES[:2]:
            row.update(template_id=f"partial-own-{j}", tool_schema_fp=None, capability="chat")
    return rows + twin + partial


def test_account_resembling_the_whole_cluster_joins_it(rng, make_con) -> None:
    linkage = link_accounts(make_con(_world(rng)))
    pool = linkage.cluster_of["pool0"]
    assert {linkage.cluster_of.get(f"pool{i}") for i in range(10)} == {pool}
    assert linkage.cluster_of.get("lookalike") == pool
    assert linkage.cluster_of.get("partial") == pool
    assert linkage.stats["joined"] == 2
    assert "small" not in linkage.cluster_of and "twin" not in linkage.cluster_of
    assert not any(a.startswith("legit") for a in linkage.cluster_of)
    # Its edges are the evidence: content and behaviour with most of the pool's members.
    # They are ties to the cluster, one edge per member of kind "lookalike", not pairwise links.
    edges = [e for e in linkage.edges.to_pylist() if "lookalike" in (e["src"], e["dst"])]
    tied = {e["dst"] if e["src"] == "lookalike" else e["src"] for e in edges}
    assert len(tied) >= 5 and all(t.startswith("pool") for t in tied)
    assert {e["kind"] for e in edges} == {"lookalike"} and len(edges) == len(tied)
    assert all("template" in e["evidence"] for e in edges)
    # The cluster summary marks it as joined: it is tied to the pool itself (detect.pool.member_tie).
    ties = linkage.cluster(pool).member_ties
    assert ties["lookalike"]["joined"] and ties["partial"]["joined"]
    assert not any(ties[f"pool{i}"]["joined"] for i in range(10))


def test_look_alike_joining_can_be_turned_off(make_con) -> None:
    linkage = link_accounts(make_con(_world(np.random.default_rng(1234))), {"join_member_share": 0})
    assert "lookalike" not in linkage.cluster_of
    assert linkage.stats["joined"] == 0


FORWARDERS = 12


def _forwarder_rows(
    name: str, ring: int, rng: np.random.Generator, ip: str | None, shared: int, every: int
) -> list[dict]:
    """40 requests of a forwarding pool's account: prompts of its own users, and every `every`-th
    one of the `shared` prompts it has in common with its ring neighbours (templates ring ..
    ring + shared - 1); one client setup."""
    ring_prompts = [f"fwd-t{(ring + k) % FORWARDERS}" for k in range(shared)]
    return [
        exchange(
            name,
            j * 36 + ring + float(rng.uniform(0, 3)),
            client_ip=ip or random_ip(rng),
            user_agent="python-httpx/0.27.0",
            template_id=ring_prompts[j % shared] if j % every == 0 else f"{name}-user-{j}",
            capability="chat",
            model="m-1",
            temperature=1.0,
            max_tokens=16192,
            thinking_requested=True,
            thinking_budget=16000,
        )
        for j in range(40)
    ]


def _forwarding_world(rng: np.random.Generator, shared: int, every: int) -> list[dict]:
    """A 12-account forwarding pool on one /24, each account look-alike with a few ring neighbours
    only (its users' prompts are its own), 60 unrelated accounts, and `forwarder`, the pool's
    client and ring prompts from fresh addresses."""
    rows = legit_population(rng, n=60)
    for i in range(FORWARDERS):
        ip = f"203.0.113.{int(rng.integers(1, 40))}"
        rows += _forwarder_rows(f"fwd{i}", i, rng, ip, shared, every)
    return rows + _forwarder_rows("forwarder", 5, rng, None, shared, every)


def _ties(linkage: Any, account: str) -> set[str]:
    return {
        e["dst"] if e["src"] == account else e["src"]
        for e in linkage.edges.to_pylist()
        if account in (e["src"], e["dst"])
    }


def test_an_account_as_tied_as_the_pool_s_own_members_joins_a_loosely_knit_pool(rng, make_con) -> None:
    # Five ring prompts on a third of the requests: each member resembles about five others.
    rows = _forwarding_world(rng, shared=5, every=3)
    linkage = link_accounts(make_con(rows))
    pool = linkage.cluster_of["fwd0"]
    assert {linkage.cluster_of.get(f"fwd{i}") for i in range(FORWARDERS)} == {pool}
    assert linkage.cluster_of.get("forwarder") == pool
    assert not any(a.startswith("legit") for a in linkage.cluster_of)
    # Fewer than half the pool: the share alone would have left it out.
    assert 3 <= len(_ties(linkage, "forwarder")) < FORWARDERS / 2
    alone = link_accounts(make_con(rows), {"join_member_quantile": 0})
    assert "forwarder" not in alone.cluster_of


def test_a_pool_whose_members_hardly_resemble_one_another_keeps_the_share(rng, make_con) -> None:
    # Four ring prompts on half the requests: each member resembles two others, fewer than
    # join_min_members, so the pool is held by its operator evidence and half of it is the test.
    linkage = link_accounts(make_con(_forwarding_world(rng, shared=4, every=2)))
    assert len({linkage.cluster_of.get(f"fwd{i}") for i in range(FORWARDERS)}) == 1
    assert "forwarder" not in linkage.cluster_of and linkage.stats["joined"] == 0
