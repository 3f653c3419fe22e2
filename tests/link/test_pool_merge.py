"""One operator's pool put back together: communities split by content merged on operator
evidence, and accounts too small to link pairwise attached to the pool whose prompts they send."""

from __future__ import annotations

import itertools

import numpy as np
from link_world import exchange, legit_population, random_ip

from distillguard.link import link_accounts
from distillguard.link.graph import merge_operator_linked


def _two_cliques(cross: int, cross_backed: bool) -> tuple[np.ndarray, ...]:
    """Communities 0 (nodes 0-9) and 1 (nodes 10-19), every pair inside linked and a third of
    those links operator-backed, plus `cross` links between them."""
    src, dst, backed = [], [], []
    for lo in (0, 10):
        for i, (x, y) in enumerate(itertools.combinations(range(lo, lo + 10), 2)):
            src.append(x)
            dst.append(y)
            backed.append(i % 3 == 0)
    for k in range(cross):
        src.append(k % 10)
        dst.append(10 + (3 * k) % 10)
        backed.append(cross_backed)
    community = np.array([0] * 10 + [1] * 10)
    return community, np.array(src), np.array(dst), np.array(backed)


def test_communities_joined_by_operator_evidence_are_merged() -> None:
    comm, src, dst, backed = _two_cliques(cross=15, cross_backed=True)
    merged = merge_operator_linked(comm, src, dst, backed, ratio=0.2, min_links=3)
    assert len(set(merged.tolist())) == 1


def test_stray_or_content_only_links_keep_communities_apart() -> None:
    # Two operator-backed links: a proxy exit two unrelated pools both used.
    comm, src, dst, backed = _two_cliques(cross=2, cross_backed=True)
    assert merge_operator_linked(comm, src, dst, backed, ratio=0.2, min_links=3).tolist() == comm.tolist()
    # Many links, none backed by operator evidence: similar prompts, not one operator.
    comm, src, dst, backed = _two_cliques(cross=30, cross_backed=False)
    assert merge_operator_linked(comm, src, dst, backed, ratio=0.2, min_links=3).tolist() == comm.tolist()
    # Off.
    comm, src, dst, backed = _two_cliques(cross=15, cross_backed=True)
    assert merge_operator_linked(comm, src, dst, backed, ratio=0.0, min_links=3).tolist() == comm.tolist()


def test_communities_without_operator_links_inside_are_not_merged_by_a_few_cross_links() -> None:
    # Two groups linked inside by content alone: three operator-backed links between them (three
    # carrier-NAT coincidences) must not make them one, whatever their size.
    for size in (5, 50):
        src, dst, backed = [], [], []
        for lo in (0, size):
            for x, y in itertools.combinations(range(lo, lo + size), 2):
                src.append(x)
                dst.append(y)
                backed.append(False)
        for k in range(3):
            src.append(k)
            dst.append(size + k)
            backed.append(True)
        comm = np.array([0] * size + [1] * size)
        merged = merge_operator_linked(
            comm, np.array(src), np.array(dst), np.array(backed), ratio=0.2, min_links=3
        )
        assert merged.tolist() == comm.tolist()


POOL_TEMPLATES = [f"pool-t{i}" for i in range(10)]


def _pool_world(rng: np.random.Generator) -> list[dict]:
    """A 12-account pool on one /24 sending its ten private templates, 80 unrelated accounts, and
    three small accounts of 4 requests each from fresh addresses:
    - `late` sends four pool templates, one of them with a chain-of-thought elicitation;
    - `quiet` sends the same four templates with no harvest signal;
    - `casual` sends one pool template among its own prompts, with the same elicitation;
    - `straggler` sends two requests: a pool template three members sent, and an elicitation of
      its own;
    - `stranger` sends two such requests (the other rare pool template) with no harvest signal."""
    rows = legit_population(rng, n=80)
    for i in range(12):
        for j in range(30):
            rows.append(
                exchange(
                    f"pool{i}",
                    j * 40 + i + float(rng.uniform(0, 2)),
                    client_ip=f"203.0.113.{int(rng.integers(1, 30))}",
                    user_agent="python-requests/2.31.0",
                    template_id=POOL_TEMPLATES[(i + j) % 10],
                    capability="math_reasoning",
                    model="m-1",
                )
            )
    # Two prompts of the pool's that three of its accounts sent once each.
    for i in range(6):
        rare = "pool-rare" if i < 3 else "pool-rare-b"
        rows.append(exchange(f"pool{i}", 1250 + i, client_ip="203.0.113.7", template_id=rare))
    small = {
        "late": (["pool-t1", "pool-t3", "pool-t5", "pool-t7"], 0.9),
        "quiet": (["pool-t1", "pool-t3", "pool-t5", "pool-t7"], 0.0),
        "casual": (["pool-t2", "casual-own-1", "casual-own-2", "casual-own-3"], 0.9),
        "straggler": (["straggler-own", "pool-rare"], 0.9),
        "stranger": (["stranger-own", "pool-rare-b"], 0.0),
    }
    for name, (templates, cot) in small.items():
        rows += _small_account(rng, name, templates, cot, start=1300, step=17)
    return rows


def _small_account(
    rng: np.random.Generator, name: str, templates: list[str], cot: float, start: float, step: float, **cols
) -> list[dict]:
    """One request per template from a fresh address each, the first with elicitation `cot`."""
    return [
        exchange(
            name,
            start + step * j + float(rng.uniform(0, 2)),
            client_ip=random_ip(rng),
            template_id=tpl,
            capability="math_reasoning",
            model="m-1",
            cot_elicitation=cot if j == 0 else 0.0,
            **{"user_agent": "python-requests/2.31.0", **cols},
        )
        for j, tpl in enumerate(templates)
    ]


def test_small_account_sending_the_pools_private_prompts_is_attached(rng, make_con) -> None:
    linkage = link_accounts(make_con(_pool_world(rng)))
    pool = linkage.cluster_of["pool0"]
    assert {linkage.cluster_of.get(f"pool{i}") for i in range(12)} == {pool}
    assert linkage.cluster_of.get("late") == pool
    # Half of its traffic the pool's private prompt, the other half a harvest request of its own.
    assert linkage.cluster_of.get("straggler") == pool
    assert linkage.stats["attached"] == 2
    # Not backed (no operator evidence, no harvest of its own), or one shared prompt among many.
    assert "quiet" not in linkage.cluster_of
    assert "stranger" not in linkage.cluster_of
    assert "casual" not in linkage.cluster_of
    assert not any(a.startswith("legit") for a in linkage.cluster_of)
    off = link_accounts(make_con(_pool_world(np.random.default_rng(1234))), {"attach_content_min": 0})
    assert "late" not in off.cluster_of and off.stats["attached"] == 0
    # Two private templates needed whatever the account's own requests: the straggler stays out.
    two = link_accounts(
        make_con(_pool_world(np.random.default_rng(1234))), {"attach_harvest_min_templates": 2}
    )
    assert "straggler" not in two.cluster_of and two.cluster_of.get("late") == two.cluster_of["pool0"]


def test_member_ties_say_what_holds_each_member_to_its_pool(rng, make_con) -> None:
    linkage = link_accounts(make_con(_pool_world(rng)))
    cluster = linkage.cluster(linkage.cluster_of["pool0"])
    assert set(cluster.member_ties) == set(cluster.members)
    worker = cluster.member_ties["pool0"]
    # Linked to fellow workers on the pool's network, every request one of its private templates.
    assert worker["links"] >= 5 and worker["operator_links"] >= 1
    assert worker["private_content_share"] == 1.0
    # Attached by the pool's private templates alone: no link, all of its traffic the pool's.
    late = cluster.member_ties["late"]
    assert late["links"] == late["operator_links"] == late["harvest_links"] == 0
    assert late["private_content_share"] == 1.0


def test_a_fragment_of_the_pool_joins_it(rng, make_con) -> None:
    """Two accounts linked to each other by one API key (a cluster of their own), one of them
    sending the pool's private templates with a harvest request, the other prompts of its own,
    are a fragment of the pool: the fragment joins it whole (the mate is the operator's too);
    with fragments off they stay apart."""
    rows = _pool_world(rng)
    own = [f"frag-own-{i}" for i in range(4)]
    for name, templates in (("frag-a", ["pool-t0", "pool-t6", "pool-t8", "pool-t9"]), ("frag-b", own)):
        rows += _small_account(
            rng,
            name,
            templates * 3,
            0.9,
            start=1400,
            step=9,
            user_agent="Mozilla/5.0 (frag)",
            api_key_id="key-shared-by-the-fragment",
        )
    off = link_accounts(make_con(rows), {"attach_fragment_max": 0})
    assert off.cluster_of["frag-a"] == off.cluster_of["frag-b"] != off.cluster_of["pool0"]
    linkage = link_accounts(make_con(rows))
    assert linkage.cluster_of["frag-a"] == linkage.cluster_of["frag-b"] == linkage.cluster_of["pool0"]
    assert linkage.stats["from_fragments"] == 2
    assert not any(a.startswith("legit") for a in linkage.cluster_of)
