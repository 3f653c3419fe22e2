"""link_accounts end to end on small worlds: outputs, determinism, empty input."""

from __future__ import annotations

import duckdb
import numpy as np
import orjson
import pyarrow as pa
from link_world import connect, exchange, legit_population, random_ip

from distillguard.link import EDGE_SCHEMA, link_accounts
from distillguard.link.graph import communities


def _campaign(rng, name: str, n: int, subnet: str, templates: list[str]) -> list[dict]:
    rows = []
    for i in range(n):
        for j in range(40):
            rows.append(
                exchange(
                    f"{name}{i}",
                    j * 20 + float(rng.uniform(0, 3)),
                    client_ip=f"{subnet}.{int(rng.integers(1, 20))}",
                    user_agent="python-requests/2.31.0",
                    template_id=templates[j % len(templates)],
                    capability="math_reasoning" if j % 2 else "coding",
                    model="m-2" if j >= 30 else "m-1",
                )
            )
    return rows


def _world(rng):
    return (
        legit_population(rng, n=80)
        + _campaign(rng, "alpha", 15, "192.0.2", ["a1", "a2", "a3"])
        + _campaign(rng, "beta", 10, "198.18.7", ["b1", "b2"])
    )


def test_two_campaigns_two_clusters(rng, make_con):
    linkage = link_accounts(make_con(_world(rng)))
    groups = {}
    for account, cid in linkage.cluster_of.items():
        groups.setdefault(cid, set()).add(account)
    assert sorted(groups.values(), key=len) == [
        {f"beta{i}" for i in range(10)},
        {f"alpha{i}" for i in range(15)},
    ]
    alpha = linkage.cluster(linkage.cluster_of["alpha0"])
    assert alpha.size == 15 and alpha.exchanges == 15 * 40
    assert alpha.capabilities == {"coding": 0.5, "math_reasoning": 0.5}
    assert alpha.shared_templates[0]["accounts"] == 15
    assert {row["model"] for row in alpha.timeline} == {"m-1", "m-2"}  # the pivot is visible
    assert alpha.first_seen < alpha.last_seen
    assert 0.0 < alpha.density < 1.0


def test_edges_table_and_evidence(rng, make_con):
    linkage = link_accounts(make_con(_world(rng)))
    assert linkage.edges.schema == EDGE_SCHEMA
    assert linkage.edges.num_rows > 0
    rows = linkage.edges.to_pylist()
    assert all(r["src"] != r["dst"] and 0 < r["weight"] <= 1.0 for r in rows)
    subnet = next(r for r in rows if r["kind"] == "subnet")
    ev = orjson.loads(subnet["evidence"])
    assert ev["shared_keys"] >= 1 and 0 < ev["similarity"] <= 1
    assert any(key.startswith(("192.0.2.0/24", "198.18.7.0/24")) for key in ev["top"])


def test_deterministic_under_seed(rng, make_con):
    rows = _world(rng)
    first = link_accounts(make_con(rows), {"seed": 3})
    second = link_accounts(make_con(rows), {"seed": 3})
    assert first.cluster_of == second.cluster_of
    assert [c.to_dict() for c in first.clusters] == [c.to_dict() for c in second.clusters]


def test_leiden_is_deterministic_and_respects_components():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 60, 300)
    b = rng.integers(0, 60, 300)
    keep = a != b
    a, b = a[keep], b[keep]
    w = rng.uniform(0.1, 1.0, len(a))
    run1 = communities(a, b, w, seed=11, resolution=1.0)
    run2 = communities(a, b, w, seed=11, resolution=1.0)
    assert all(np.array_equal(x, y) for x, y in zip(run1, run2, strict=True))
    # Two disconnected cliques are never merged.
    clique = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    pairs = np.array(clique + [(i + 10, j + 10) for i, j in clique])
    nodes, comm = communities(pairs[:, 0], pairs[:, 1], np.ones(len(pairs)), seed=1, resolution=1.0)
    assert len(set(comm[nodes < 10].tolist())) == 1 and set(comm[nodes < 10]) != set(comm[nodes >= 10])


def test_empty_and_degenerate_input(make_con):
    assert link_accounts(make_con([])).clusters == []
    single = link_accounts(make_con([exchange("only", 1.0, client_ip="192.0.2.1")]))
    assert single.cluster_of == {} and single.edges.num_rows == 0
    no_view = link_accounts(duckdb.connect())
    assert no_view.cluster_of == {} and no_view.edges.schema == EDGE_SCHEMA


def test_exchanges_alone_with_few_columns(rng):
    # Only account_id, ts and client_ip: linkage still runs on what is there.
    rows = _world(rng)
    con = duckdb.connect()
    con.register(
        "exchanges",
        pa.table(
            {
                "account_id": [r["account_id"] for r in rows],
                "ts": pa.array([r["ts"] for r in rows], pa.timestamp("us", tz="UTC")),
                "client_ip": [r.get("client_ip") or random_ip(rng) for r in rows],
            }
        ),
    )
    linkage = link_accounts(con)
    assert set(linkage.cluster_of) <= {r["account_id"] for r in rows}


def test_leaves_no_tables_behind(rng, make_con):
    con = make_con(_world(rng))
    link_accounts(con)
    assert con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '_dg_link_%'"
    ).fetchall() == [(0,)]


def test_disabled_and_bad_config(make_con, rng):
    import pytest
    from pydantic import ValidationError

    assert link_accounts(make_con(_world(rng)), {"enabled": False}).cluster_of == {}
    with pytest.raises(ValidationError, match="no_such_option"):
        link_accounts(make_con([]), {"no_such_option": 1})


def test_leiden_splits_two_pools_joined_by_stray_links_but_not_one_pool():
    clique = [(i, j) for i in range(12) for j in range(i + 1, 12)]
    one = np.array(clique)
    # Heavier links inside part of the pool (a shared card) must not split it.
    w = np.where((one[:, 0] < 6) & (one[:, 1] < 6), 1.5, 0.5)
    nodes, comm = communities(one[:, 0], one[:, 1], w, seed=1, resolution=0.5)
    assert len(set(comm.tolist())) == 1
    two = np.array(clique + [(i + 20, j + 20) for i, j in clique] + [(0, 20), (5, 25)])
    w2 = np.r_[np.ones(2 * len(clique)), [0.2, 0.2]]
    nodes, comm = communities(two[:, 0], two[:, 1], w2, seed=1, resolution=0.5)
    label = dict(zip(nodes.tolist(), comm.tolist(), strict=True))
    assert len({label[i] for i in range(12)}) == 1 and len({label[i + 20] for i in range(12)}) == 1
    assert label[0] != label[20]


def _rounded(linkage) -> tuple:
    """A Linkage as comparable values, similarity weights to 9 digits (DuckDB's threads may add
    in any order)."""
    edges = sorted(
        (r["src"], r["dst"], r["kind"], round(r["weight"], 9), r["evidence"])
        for r in linkage.edges.to_pylist()
    )
    return linkage.cluster_of, [c.to_dict() for c in linkage.clusters], edges


def test_templates_completed_late_give_the_same_linkage(rng):
    # Two skeletons per template, as the grouping merges paraphrases: linking with the view's
    # template ids, or with the skeletons first and the grouping's mapping handed over later
    # (the scan's grouping runs beside link), must give one Linkage.
    rows = _world(rng)
    for i, row in enumerate(rows):
        row["skeleton_hash"] = f"{row.get('template_id')}~{i % 2}" if row.get("template_id") else None
    types = {"skeleton_hash": pa.string()}
    mapping = pa.table(
        {
            "skeleton_hash": sorted({r["skeleton_hash"] for r in rows if r["skeleton_hash"]}),
        }
    )
    mapping = mapping.append_column(
        "template_id", pa.array([s.split("~")[0] for s in mapping["skeleton_hash"].to_pylist()])
    )
    together = link_accounts(connect(rows, **types))
    pending = [dict(r, template_id=None) for r in rows]  # the view before the grouping has run
    calls = []

    def templates() -> pa.Table:
        calls.append(1)
        return mapping

    late = link_accounts(connect(pending, **types), templates=templates)
    assert calls == [1]
    assert together.clusters and _rounded(late) == _rounded(together)
    assert any(r["kind"] == "template" for r in late.edges.to_pylist())
