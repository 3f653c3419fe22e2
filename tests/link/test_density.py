"""FRAUDAR-style peeling: a dense block keeps its score under camouflage."""

from __future__ import annotations

import numpy as np

from distillguard.link.density import column_weights, densest_block


def _block(n_rows: int, n_cols: int, row0: int = 0, col0: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r, c = np.meshgrid(np.arange(n_rows) + row0, np.arange(n_cols) + col0, indexing="ij")
    return r.ravel(), c.ravel()


def test_finds_the_dense_block_in_sparse_noise():
    rng = np.random.default_rng(0)
    br, bc = _block(20, 10)
    nr, nc = rng.integers(0, 200, 400), rng.integers(10, 300, 400)  # sparse, mostly other rows
    rows, cols = np.r_[br, nr], np.r_[bc, nc]
    block = densest_block(rows, cols, np.ones(len(rows)))
    assert set(range(20)) <= set(block.rows.tolist())
    assert set(range(10)) <= set(block.cols.tolist())
    assert len(block.rows) < 40


def test_camouflage_does_not_lower_the_score():
    rng = np.random.default_rng(1)
    br, bc = _block(30, 12)
    degree = np.r_[np.full(12, 30), np.full(200, 500)]  # block keys vs popular keys
    plain = densest_block(br, bc, column_weights(degree[bc], 5.0))
    # Every block account also sends ordinary traffic: 20 edges each to popular keys.
    cr = np.repeat(np.arange(30), 20)
    cc = rng.integers(12, 212, len(cr))
    rows, cols = np.r_[br, cr], np.r_[bc, cc]
    camouflaged = densest_block(rows, cols, column_weights(degree[cols], 5.0))
    assert camouflaged.density >= plain.density - 1e-9
    assert camouflaged.score(2.0) >= plain.score(2.0) - 1e-9
    assert set(camouflaged.cols.tolist()) >= set(range(12))


def test_popular_keys_weigh_less_than_rare_ones():
    r, c = _block(10, 5)
    rare = densest_block(r, c, column_weights(np.full(len(c), 10), 5.0))
    popular = densest_block(r, c, column_weights(np.full(len(c), 10_000), 5.0))
    assert rare.density > 2 * popular.density


def test_empty_graph():
    block = densest_block(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    assert block.density == 0.0 and block.score(2.0) == 0.0
