"""Each edge family on a small positive and negative case; popular keys link nobody."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from link_world import T0, exchange, legit_population, random_ip

from distillguard.link import link_accounts


def _pool(rng, n, per, *, ips=None, templates=None, minutes=None, prefix="pool", in_turn=False, **cols):
    rows = []
    for i in range(n):
        for j in range(per):
            rows.append(
                exchange(
                    f"{prefix}{i}",
                    float(minutes(i, j) if minutes else rng.uniform(0, 1440)),
                    client_ip=str(rng.choice(ips)) if ips else random_ip(rng),
                    user_agent=cols.get("user_agent", "python-requests/2.31.0"),
                    template_id=_template(rng, templates, in_turn, j)
                    if templates
                    else f"{prefix}-own-{i}-{j}",
                    capability="coding",
                    model="m-1",
                )
            )
    return rows


def _template(rng, templates, in_turn, j):
    return templates[j % len(templates)] if in_turn else str(rng.choice(templates))


def _clustered(linkage, prefix):
    return {a for a in linkage.cluster_of if a.startswith(prefix)}


def test_shared_payment_links_on_its_own(rng, make_con):
    rows = legit_population(rng, n=30)
    accounts = [{"account_id": f"legit{i}", "payment_fingerprint": f"card-{i}"} for i in range(30)]
    accounts[3]["payment_fingerprint"] = accounts[4]["payment_fingerprint"] = "card-shared"
    linkage = link_accounts(make_con(rows, accounts))
    assert linkage.cluster_of.keys() == {"legit3", "legit4"}
    assert linkage.clusters[0].edge_kinds == {"payment": 1}


def test_distinct_payments_do_not_link(rng, make_con):
    rows = legit_population(rng, n=30)
    accounts = [{"account_id": f"legit{i}", "payment_fingerprint": f"card-{i}"} for i in range(30)]
    assert link_accounts(make_con(rows, accounts)).cluster_of == {}


def test_rare_ips_and_templates_link_a_pool(rng, make_con):
    ips = [f"203.0.113.{i}" for i in range(1, 9)]
    rows = legit_population(rng) + _pool(rng, 12, 40, ips=ips, templates=["tpl-a", "tpl-b", "tpl-c"])
    linkage = link_accounts(make_con(rows))
    assert _clustered(linkage, "pool") == {f"pool{i}" for i in range(12)}
    assert _clustered(linkage, "legit") == set()
    kinds = linkage.clusters[0].edge_kinds
    assert {"ip", "subnet", "template"} <= kinds.keys()
    assert any(
        s["kind"] == "subnet" and s["value"].startswith("203.0.113.0/24")
        for s in linkage.clusters[0].shared_infrastructure
    )


def test_popular_nat_ip_and_benchmark_do_not_link(rng, make_con):
    # 60 unrelated eval runners behind one cloud NAT address, all sending the same public
    # benchmark at their own times, all with python-requests: nothing here is coordination.
    rows = legit_population(rng, n=20) + _pool(
        rng, 60, 30, ips=["198.51.100.7"], templates=[f"bench-{k}" for k in range(20)], prefix="eval"
    )
    linkage = link_accounts(make_con(rows))
    assert linkage.cluster_of == {}


def test_shared_ipv6_prefix_is_one_subnet(rng, make_con):
    ips = [f"2001:db8:1:{k:x}::{k + 1}" for k in range(30)]
    rows = legit_population(rng, n=20) + _pool(rng, 6, 30, ips=ips, templates=["tpl-x", "tpl-y"])
    linkage = link_accounts(make_con(rows))
    assert _clustered(linkage, "pool") == {f"pool{i}" for i in range(6)}
    assert any(s["value"].startswith("2001:db8:1::/48") for s in linkage.clusters[0].shared_infrastructure)


def test_lockstep_links_accounts_sending_a_popular_template_together(rng, make_con):
    bench = [f"bench-{k}" for k in range(5)]
    # 50 eval runners send the benchmark at random times: the template itself is popular.
    runners = _pool(rng, 50, 30, templates=bench, prefix="eval")
    # 10 accounts send the same benchmark prompts in the same minutes (a dispatcher feeding the
    # pool one item at a time, at irregular moments), each from its own IPs.
    moments = np.sort(rng.uniform(0, 1440, 30))
    sync = _pool(
        rng,
        10,
        30,
        templates=bench,
        minutes=lambda i, j: moments[j] + rng.uniform(0, 1),
        prefix="sync",
        in_turn=True,
    )
    # Content and timing alone are what independent eval runners on release day share, so by
    # default they need evidence of a common operator too; without that requirement they link.
    assert link_accounts(make_con(runners + sync)).cluster_of == {}
    linkage = link_accounts(make_con(runners + sync), {"require_identity": False})
    assert _clustered(linkage, "sync") == {f"sync{i}" for i in range(10)}
    assert _clustered(linkage, "eval") == set()
    assert "lockstep" in linkage.clusters[0].edge_kinds


def test_machine_cadence_links_a_round_robin_pool(rng, make_con):
    # A dispatcher sends one request every 30 s round-robin over 12 accounts: each account fires
    # every 6 minutes, from its own residential IP, with its own prompts.
    pool = _pool(
        rng,
        12,
        40,
        minutes=lambda i, j: 30 + j * 6.0 + i * 0.5 + rng.normal(0, 0.01),
        prefix="rr",
        templates=["rr-a", "rr-b", "rr-c", "rr-d"],
    )
    linkage = link_accounts(make_con(legit_population(rng, n=40) + pool))
    assert _clustered(linkage, "rr") == {f"rr{i}" for i in range(12)}
    assert {"cadence", "template"} <= linkage.clusters[0].edge_kinds.keys()
    assert _clustered(linkage, "legit") == set()


def test_same_accounts_without_lockstep_do_not_link(rng, make_con):
    bench = [f"bench-{k}" for k in range(5)]
    rows = _pool(rng, 50, 30, templates=bench, prefix="eval") + _pool(
        rng, 10, 30, templates=bench, prefix="sync"
    )
    assert link_accounts(make_con(rows)).cluster_of == {}


def test_creation_burst_and_rare_user_agent_link(rng, make_con):
    rows = legit_population(rng, n=40) + _pool(rng, 8, 20, user_agent="harvest-client/0.3", prefix="new")
    accounts = [
        {"account_id": f"legit{i}", "created_at": T0 - dt.timedelta(days=int(rng.integers(30, 900)))}
        for i in range(40)
    ] + [
        {
            "account_id": f"new{i}",
            "created_at": T0 - dt.timedelta(days=2, minutes=3 * i),
            "email_domain": "mailbox.example",
        }
        for i in range(8)
    ]
    linkage = link_accounts(make_con(rows, accounts))
    assert _clustered(linkage, "new") == {f"new{i}" for i in range(8)}
    assert {"creation_burst", "user_agent"} <= linkage.clusters[0].edge_kinds.keys()
    assert _clustered(linkage, "legit") == set()


def test_common_user_agents_and_free_mail_link_nobody(rng, make_con):
    rows = legit_population(rng, n=30)
    accounts = [{"account_id": f"legit{i}", "email_domain": "gmail.com"} for i in range(30)]
    # Everybody uses python-requests and gmail: nothing links.
    assert link_accounts(make_con(rows, accounts)).cluster_of == {}
    # A private domain and a custom client string that only two accounts share do link.
    for i in (5, 6):
        accounts[i]["email_domain"] = "quiet-labs.example"
        for r in rows:
            if r["account_id"] == f"legit{i}":
                r["user_agent"] = "harvest-client/0.3"
    linkage = link_accounts(make_con(rows, accounts))
    assert linkage.cluster_of.keys() == {"legit5", "legit6"}
    assert set(linkage.clusters[0].edge_kinds) == {"email_domain", "user_agent"}


def test_accounts_of_one_declared_organisation_are_not_linked(rng, make_con):
    rows = legit_population(rng, n=20)
    accounts = [
        {"account_id": f"legit{i}", "payment_fingerprint": f"card-{i}", "org_id": f"org-{i}"}
        for i in range(20)
    ]
    for i in (2, 3):
        accounts[i]["payment_fingerprint"], accounts[i]["org_id"] = "card-team", "org-team"
    assert link_accounts(make_con(rows, accounts)).cluster_of == {}
    linkage = link_accounts(make_con(rows, accounts), {"link_within_org": True})
    assert linkage.cluster_of.keys() == {"legit2", "legit3"}


def test_content_bridges_bursts_of_one_pool_but_pulls_in_nobody(rng, make_con):
    templates = ["pool-a", "pool-b", "pool-c"]
    rows = legit_population(rng, n=40)
    rows += _pool(rng, 12, 30, templates=templates, prefix="pool", user_agent="python-requests/2.31.0")
    # An unrelated account that happens to send the same prompts: content only, no operator link.
    rows += _pool(rng, 1, 30, templates=templates, prefix="lone")
    for r in rows:
        if r["account_id"].startswith("pool"):
            r["system_hash"] = "pool-system"
    burst = {f"pool{i}": T0 - dt.timedelta(days=40 if i < 6 else 10, minutes=i) for i in range(12)}
    accounts = (
        [{"account_id": a, "created_at": t} for a, t in burst.items()]
        + [
            {"account_id": f"legit{i}", "created_at": T0 - dt.timedelta(days=int(rng.integers(60, 900)))}
            for i in range(40)
        ]
        + [{"account_id": "lone0", "created_at": T0 - dt.timedelta(days=300)}]
    )
    # The bridge rule alone (look-alike joining, tests/link/test_lookalike.py, is off here: an
    # account sending nothing but the pool's private prompts with its client and model is what
    # it judges).
    linkage = link_accounts(make_con(rows, accounts), {"join_member_share": 0})
    assert _clustered(linkage, "pool") == set(burst)
    assert len({linkage.cluster_of[a] for a in burst}) == 1  # both bursts, one cluster
    assert "lone0" not in linkage.cluster_of
    assert _clustered(linkage, "legit") == set()


def _prompts(rng, n, per, *, prefix, templates, cot):
    """Accounts sending paraphrases of shared templates (MinHash bands mostly shared, a few the
    exchange's own), each request from a new address, with chain-of-thought elicitation `cot`."""
    rows = _pool(rng, n, per, templates=templates, prefix=prefix)
    for k, r in enumerate(rows):
        t = r["template_id"]
        r["lsh_keys"] = [f"{t}-band{b}" if rng.random() < 0.7 else f"own-{prefix}-{k}-{b}" for b in range(16)]
        r["cot_elicitation"] = cot
        r["temperature"], r["max_tokens"] = 0.6, 8192
    return rows


def test_shared_harvest_prompts_back_a_pool_with_no_infrastructure(rng, make_con):
    # A pool harvesting chain-of-thought through an IP per request, without account records:
    # the harvest prompts it shares stand in for operator evidence when a third kind agrees.
    rows = legit_population(rng, n=40)
    rows += _prompts(rng, 10, 30, prefix="pool", templates=["cot-a", "cot-b", "cot-c"], cot=0.9)
    linkage = link_accounts(make_con(rows))
    assert _clustered(linkage, "pool") == {f"pool{i}" for i in range(10)}
    assert "harvest_band" in linkage.clusters[0].edge_kinds
    assert _clustered(linkage, "legit") == set()


def test_integer_band_keys_link_as_their_text_does(rng, make_con):
    # Stores hold the MinHash bands as int64 (stores of earlier releases as decimal text): the
    # link stage groups them as integers and must reach the same edges and clusters.
    rows = legit_population(rng, n=40)
    rows += _prompts(rng, 10, 30, prefix="pool", templates=["cot-a", "cot-b", "cot-c"], cot=0.9)
    as_text = link_accounts(make_con(rows))
    numbers: dict[str, int] = {}
    for r in rows:
        if r.get("lsh_keys"):  # signed 64-bit values, negative ones included, as the hashes are
            r["lsh_keys"] = [
                numbers.setdefault(k, (len(numbers) * 0x9E3779B97F4A7C15) % 2**64 - 2**63)
                for k in r["lsh_keys"]
            ]
    as_int = link_accounts(make_con(rows, lsh_keys=pa.list_(pa.int64())))
    assert as_int.cluster_of == as_text.cluster_of != {}
    edges = [
        sorted(
            zip(
                e["src"].to_pylist(),
                e["dst"].to_pylist(),
                e["kind"].to_pylist(),
                [round(w, 9) for w in e["weight"].to_pylist()],
                strict=True,
            )
        )
        for e in (as_text.edges, as_int.edges)
    ]
    assert edges[0] == edges[1]
    assert {k for _, _, k, _ in edges[1]} >= {"harvest_band", "paraphrase"}


def test_shared_ordinary_prompts_link_nobody(rng, make_con):
    # The same accounts sending the same benchmark prompts without harvest signals are what eval
    # runners look like: content and behaviour, no operator.
    rows = legit_population(rng, n=40)
    rows += _prompts(rng, 10, 30, prefix="eval", templates=["bench-a", "bench-b", "bench-c"], cot=0.0)
    assert link_accounts(make_con(rows)).cluster_of == {}


def _sprayers(rng, apps: int = 3, requests: int = 1500) -> list[dict]:
    """Heavy apps that send every request from a fresh address of one cloud range (1,024 /24
    blocks) and share a handful of prompts: they overlap on blocks by chance, never on purpose."""
    rows = []
    for a in range(apps):
        for j in range(requests):
            ip = f"34.{200 + int(rng.integers(0, 4))}.{int(rng.integers(0, 256))}.{int(rng.integers(1, 250))}"
            rows.append(
                exchange(
                    f"app{a}",
                    j * 2 + float(rng.uniform(0, 1)),
                    client_ip=ip,
                    template_id=f"common-{j % 12}",
                    capability="chat",
                    model="m-1",
                )
            )
    return rows


def test_heavy_apps_passing_through_one_cloud_range_are_not_linked_by_it(rng, make_con):
    rows = legit_population(rng, n=30) + _sprayers(rng)
    assert link_accounts(make_con(rows)).cluster_of == {}
    # Each block-day carries a request or two of an app's 1,500: counted anyway, the overlaps
    # add up to network evidence, and with the shared prompts the apps link.
    linked = link_accounts(make_con(rows), {"network_min_share": 0.0})
    assert {a for a in linked.cluster_of if a.startswith("app")} == {"app0", "app1", "app2"}
