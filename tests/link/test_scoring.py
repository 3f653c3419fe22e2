"""Shared-key scoring: both ways of finding a pair's shared keys agree; evidence is deterministic."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from distillguard.link.keys import KEYS
from distillguard.link.pairs import PAIRS, _shared_keys_sql, top_shared_keys


def _keys_and_pairs(rng: np.random.Generator) -> duckdb.DuckDBPyConnection:
    """A random incidence (40 accounts, 60 keys of two kinds, df 2..40) and random candidate pairs."""
    con = duckdb.connect()
    rows = []
    for kid in range(60):
        holders = np.sort(rng.choice(40, int(rng.integers(2, 41)), replace=False))
        for r, aid in enumerate(holders, start=1):
            rows.append(
                (
                    "ip" if kid % 2 else "template",
                    f"k{kid}",
                    kid,
                    int(aid),
                    float(rng.choice([0.25, 0.5])),
                    len(holders),
                    1.0,
                    r,
                )
            )
    names = ["kind", "key", "kid", "aid", "tf", "df", "idf", "r"]
    con.register("k_arrow", pa.table({n: [row[i] for row in rows] for i, n in enumerate(names)}))
    con.execute(f"CREATE TEMP TABLE {KEYS} AS SELECT * FROM k_arrow")
    pairs = {tuple(sorted(rng.choice(40, 2, replace=False).tolist())) for _ in range(300)}
    con.register("p_arrow", pa.table({"a": [a for a, _ in pairs], "b": [b for _, b in pairs]}))
    con.execute(f"CREATE TEMP TABLE {PAIRS} AS SELECT a::INTEGER a, b::INTEGER b FROM p_arrow")
    return con


def test_holder_join_and_pair_lookup_find_the_same_shared_keys(rng):
    con = _keys_and_pairs(rng)
    results = [
        con.sql(
            f"SELECT a, b, kind, key, v FROM ({_shared_keys_sql(PAIRS, (), split)}) ORDER BY ALL"
        ).fetchall()
        for split in (2, 10, 25, 1000)
    ]
    assert len(results[0]) > 100
    assert all(r == results[0] for r in results[1:])


def test_top_keys_of_equal_weight_are_listed_in_key_order(rng):
    con = _keys_and_pairs(rng)
    pairs = con.sql(
        f"SELECT a, b, 'ip' AS kind, CAST(NULL AS VARCHAR) AS top_keys FROM {PAIRS}"
    ).to_arrow_table()
    first = top_shared_keys(con, pairs, top=3)
    again = top_shared_keys(con, pairs.take(np.arange(pairs.num_rows)[::-1]), top=3)
    assert sorted(first.to_pylist(), key=str) == sorted(again.to_pylist(), key=str)
    listed = [t for t in first["top_keys"].to_pylist() if t]
    assert listed  # the pairs share ip keys


def test_candidates_and_edges_do_not_depend_on_slicing(rng, make_con, monkeypatch):
    from link_world import exchange, legit_population

    from distillguard.link import link_accounts
    from distillguard.link import pairs as pairs_module

    ips = ["198.51.100.7", "198.51.100.8"]
    rows = legit_population(rng, n=40) + [
        exchange(f"pool{i}", float(rng.uniform(0, 1440)), client_ip=str(rng.choice(ips)), template_id="tpl-a")
        for i in range(12)
        for _ in range(20)
    ]
    whole = link_accounts(make_con(rows))
    monkeypatch.setattr(pairs_module, "PROPOSALS_PER_SLICE", 50)
    sliced = link_accounts(make_con(rows))
    assert whole.stats["candidate_pairs"] == sliced.stats["candidate_pairs"] > 0
    assert whole.edges.to_pylist() == sliced.edges.to_pylist()
    assert whole.cluster_of == sliced.cluster_of and whole.cluster_of
