"""Shared-key scoring: both ways of finding a pair's shared keys agree; evidence is deterministic."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pyarrow as pa

from distillguard.link.keys import KEY_NAMES, KEYS
from distillguard.link.pairs import PAIRS, _shared_keys_sql, kinds_filter, score_shared_keys, top_shared_keys


def _keys_and_pairs(rng: np.random.Generator) -> duckdb.DuckDBPyConnection:
    """A random incidence (40 accounts, 60 keys of two kinds, df 2..40) and random candidate pairs.

    As `build_keys` numbers them: kids in (kind, key) order, the text in KEY_NAMES."""
    con = duckdb.connect()
    rows, names = [], []
    keys = sorted(("ip" if k % 2 else "template", f"k{k:02d}") for k in range(60))
    for kid, (kind, key) in enumerate(keys):
        holders = np.sort(rng.choice(40, int(rng.integers(2, 41)), replace=False))
        names.append((kid, kind, key, len(holders)))
        for aid in holders:
            rows.append((kind, kid, int(aid), float(rng.choice([0.25, 0.5])), len(holders), 1.0))
    columns = ["kind", "kid", "aid", "tf", "df", "idf"]
    con.register("k_arrow", pa.table({n: [row[i] for row in rows] for i, n in enumerate(columns)}))
    con.execute(f"CREATE TEMP TABLE {KEYS} AS SELECT * FROM k_arrow")
    columns = ["kid", "kind", "key", "df"]
    con.register("n_arrow", pa.table({n: [row[i] for row in names] for i, n in enumerate(columns)}))
    con.execute(f"CREATE TEMP TABLE {KEY_NAMES} AS SELECT * FROM n_arrow")
    pairs = {tuple(sorted(rng.choice(40, 2, replace=False).tolist())) for _ in range(300)}
    con.register("p_arrow", pa.table({"a": [a for a, _ in pairs], "b": [b for _, b in pairs]}))
    con.execute(f"CREATE TEMP TABLE {PAIRS} AS SELECT a::INTEGER a, b::INTEGER b FROM p_arrow")
    return con


def test_holder_join_and_pair_lookup_find_the_same_shared_keys(rng):
    con = _keys_and_pairs(rng)
    results = [
        con.sql(
            f"SELECT a, b, kind, kid, v FROM ({_shared_keys_sql(PAIRS, kinds_filter(), split)}) ORDER BY ALL"
        ).fetchall()
        for split in (2, 10, 25, 1000)
    ]
    assert len(results[0]) > 100
    assert all(r == results[0] for r in results[1:])
    only_ip = con.sql(f"SELECT DISTINCT kind FROM ({_shared_keys_sql(PAIRS, kinds_filter(only=['ip']), 10)})")
    assert only_ip.fetchall() == [("ip",)]


def test_top_keys_are_the_largest_shared_keys_ties_listed_by_key(rng):
    con = _keys_and_pairs(rng)
    scores = score_shared_keys(con)
    first = top_shared_keys(con, scores)
    again = top_shared_keys(con, scores.take(np.arange(scores.num_rows)[::-1]))
    assert sorted(first.to_pylist(), key=str) == sorted(again.to_pylist(), key=str)
    assert "top_kids" not in first.column_names
    # The same keys as ranking every shared key by (weight, key text), largest first.
    held = {}
    for kind, kid, aid, tf, _df, idf in con.execute(f"SELECT * FROM {KEYS}").fetchall():
        held.setdefault((kind, aid), {})[kid] = (tf, idf)
    names = {kid: (key, df) for kid, _kind, key, df in con.execute(f"SELECT * FROM {KEY_NAMES}").fetchall()}
    listed = 0
    for row in first.to_pylist():
        a, b = held[row["kind"], row["a"]], held[row["kind"], row["b"]]
        shared = a.keys() & b.keys()
        weight = {k: min(a[k][0], b[k][0]) * a[k][1] for k in shared}
        best = sorted(shared, key=lambda k: (weight[k], names[k][0]), reverse=True)[:3]
        expected = [f"{names[k][0]} ({names[k][1]} accounts)" for k in best]
        assert json.loads(row["top_keys"]) == expected
        listed += len(shared) > 3
    assert listed > 50  # the pairs share many keys, many of equal weight


def test_candidates_and_edges_do_not_depend_on_how_proposals_are_aggregated(rng, make_con, monkeypatch):
    from link_world import exchange, legit_population

    from distillguard.link import link_accounts
    from distillguard.link import pairs as pairs_module

    ips = ["198.51.100.7", "198.51.100.8"]
    rows = legit_population(rng, n=40) + [
        exchange(f"pool{i}", float(rng.uniform(0, 1440)), client_ip=str(rng.choice(ips)), template_id="tpl-a")
        for i in range(12)
        for _ in range(20)
    ]
    from distillguard.link import linkage as linkage_module

    candidates: list[list[tuple[int, int]]] = []
    build = pairs_module.build_candidates

    def recording(con, *args):
        n = build(con, *args)
        candidates.append(con.execute(f"SELECT a, b FROM {pairs_module.PAIRS} ORDER BY a, b").fetchall())
        return n

    monkeypatch.setattr(linkage_module, "build_candidates", recording)
    dense = link_accounts(make_con(rows))  # a small scan: the matrix of every pair
    monkeypatch.setattr(pairs_module, "DENSE_MAX_ACCOUNTS", 0)
    whole = link_accounts(make_con(rows))  # one hash aggregate
    monkeypatch.setattr(pairs_module, "PROPOSALS_PER_SLICE", 50)
    sliced = link_accounts(make_con(rows))
    assert candidates[0] == candidates[1] == candidates[2] and len(candidates[0]) > 50
    for other in (whole, sliced):
        assert dense.stats["candidate_pairs"] == other.stats["candidate_pairs"] > 0
        assert dense.edges.to_pylist() == other.edges.to_pylist()
        assert dense.cluster_of == other.cluster_of and dense.cluster_of
