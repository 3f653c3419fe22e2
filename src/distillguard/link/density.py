"""FRAUDAR-style dense-block score of a cluster, robust to camouflage.

The cluster's accounts and the keys they hold (IPs, templates, lockstep windows, payment...) form
a bipartite graph; an edge to a key held by `d` accounts overall weighs 1 / log(c + d), so popular
objects (a public benchmark, a cloud range) count for little. Greedy peeling (Hooi et al., 2016)
removes the node of least weighted degree until nothing is left and keeps the densest state seen,
g = edge weight / nodes. Camouflage — harvest accounts also sending ordinary requests, a reseller's
ordinary customers in the pool — adds edges to popular or private keys that are simply peeled
away: it cannot lower the density of the coordinated block, which is the point of the method.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DenseBlock:
    rows: np.ndarray  # indices of accounts in the densest block
    cols: np.ndarray  # indices of keys in the densest block
    density: float  # FRAUDAR g(S): weighted edges / (accounts + keys)

    def score(self, scale: float) -> float:
        """Density mapped to [0, 1): 1 - exp(-g / scale)."""
        return 1.0 - math.exp(-self.density / max(scale, 1e-9))


def column_weights(degree: np.ndarray, c: float) -> np.ndarray:
    """FRAUDAR column weights 1 / log(c + degree)."""
    return 1.0 / np.log(c + np.asarray(degree, float))


def densest_block(rows: np.ndarray, cols: np.ndarray, weight: np.ndarray) -> DenseBlock:
    """Greedy peeling of the bipartite graph with edges (rows[i], cols[i], weight[i])."""
    if len(rows) == 0:
        return DenseBlock(np.empty(0, np.int64), np.empty(0, np.int64), 0.0)
    n_r = int(rows.max()) + 1
    n = n_r + int(cols.max()) + 1
    u = np.concatenate([rows, cols + n_r])
    v = np.concatenate([cols + n_r, rows])
    w = np.concatenate([weight, weight]).astype(float)
    order = np.argsort(u, kind="stable")
    nbr, nw = v[order], w[order]
    start = np.searchsorted(u[order], np.arange(n + 1))
    present = np.bincount(u, minlength=n) > 0
    # The peeling loop is sequential: plain Python lists and floats are several times faster to
    # index one element at a time than numpy arrays, with the same float64 arithmetic.
    deg = np.bincount(u, weights=w, minlength=n).tolist()
    nbr_l, nw_l, start_l = nbr.tolist(), nw.tolist(), start.tolist()
    alive = present.tolist()
    remaining = int(present.sum())
    total = float(weight.sum())
    best, best_step = total / remaining, 0
    heap = [(deg[i], i) for i in np.flatnonzero(present).tolist()]
    heapq.heapify(heap)
    removed: list[int] = []
    heappop, heappush = heapq.heappop, heapq.heappush
    while heap and remaining > 1:
        d, node = heappop(heap)
        if not alive[node] or d != deg[node]:
            continue  # stale entry
        alive[node] = False
        removed.append(node)
        remaining -= 1
        total -= deg[node]
        for j in range(start_l[node], start_l[node + 1]):
            other = nbr_l[j]
            if alive[other]:
                deg[other] -= nw_l[j]
                heappush(heap, (deg[other], other))
        g = total / remaining
        if g > best + 1e-12:
            best, best_step = g, len(removed)
    keep = present.copy()
    keep[removed[:best_step]] = False
    idx = np.flatnonzero(keep)
    return DenseBlock(idx[idx < n_r], idx[idx >= n_r] - n_r, float(best))
