"""Behavioural fingerprints: SimHash bands estimate cosine similarity."""

from __future__ import annotations

import numpy as np
from link_world import exchange

from distillguard.link.fingerprint import account_vectors, simhash_keys
from distillguard.link.keys import build_exchanges, view_columns


def _shared_bands(keys, a, b) -> int:
    rows = keys.to_pylist()
    ka = {r["key"] for r in rows if r["aid"] == a}
    kb = {r["key"] for r in rows if r["aid"] == b}
    return len(ka & kb)


def test_simhash_bands_track_cosine():
    rng = np.random.default_rng(0)
    base = rng.standard_normal(30)
    vectors = np.stack([base, base + 0.05 * rng.standard_normal(30), rng.standard_normal(30), np.zeros(30)])
    keys = simhash_keys(np.arange(4), vectors, bands=16, bits=8, seed=7)
    assert _shared_bands(keys, 0, 1) >= 10  # nearly the same direction
    assert _shared_bands(keys, 0, 2) <= 3  # unrelated
    assert 3 not in keys["aid"].to_pylist()  # no direction, no keys
    assert keys["n"].to_pylist()[0] == 1 / 16
    again = simhash_keys(np.arange(4), vectors, bands=16, bits=8, seed=7)
    assert again.equals(keys)


def test_account_vectors_separate_scripts_from_people(rng, make_con):
    rows = []
    for i in range(3):  # one harvesting script on three accounts: same parameters, same cadence
        rows += [
            exchange(
                f"script{i}",
                j * 5.0 + i * 0.1,
                temperature=0.0,
                max_tokens=16000,
                thinking_requested=True,
                thinking_budget=8000,
                capability="math_reasoning",
            )
            for j in range(40)
        ]
    for i in range(20):  # people: their own parameters and hours
        t = np.sort(rng.uniform(0, 1440, 15))
        rows += [
            exchange(
                f"person{i}",
                float(m),
                temperature=float(rng.choice([0.2, 0.7, 1.0])),
                max_tokens=int(rng.choice([512, 1024, 4096])),
                capability="chat",
            )
            for m in t
        ]
    con = make_con(rows)
    build_exchanges(con, view_columns(con, "exchanges"))
    aids, vectors, _ = account_vectors(con, view_columns(con, "exchanges"), min_exchanges=10)
    ids = dict(con.execute("SELECT aid, account_id FROM _dg_link_acct").fetchall())
    by_name = {ids[a]: v for a, v in zip(aids.tolist(), vectors, strict=True)}

    def cos(x, y):
        return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))

    assert cos(by_name["script0"], by_name["script1"]) > 0.95
    assert cos(by_name["script0"], by_name["person0"]) < 0.5
