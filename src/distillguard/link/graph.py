"""The weighted account graph and its communities (Leiden, via igraph + leidenalg).

Leiden runs on each connected component separately, with the RB-configuration (modularity)
quality function at `resolution` < 1. Per component, because modularity's null model is global:
on the whole graph, whether one campaign is split in two would depend on how much *unrelated*
traffic the scan holds (the resolution limit). Within its own component, a pool whose links are
uniformly dense stays whole for any resolution below 1, while two pools joined by a few stray
links (a proxy exit both happened to use) come apart.
"""

from __future__ import annotations

import igraph as ig
import leidenalg
import numpy as np


def communities(
    a: np.ndarray, b: np.ndarray, weight: np.ndarray, *, seed: int, resolution: float
) -> tuple[np.ndarray, np.ndarray]:
    """Leiden communities of the graph with edges (a[i], b[i], weight[i]) over account numbers.

    Returns (nodes, community) — every account that has an edge, and its community number.
    Deterministic for a fixed seed; accounts with no path between them are never put together.
    """
    if len(a) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    nodes, idx = np.unique(np.concatenate([a, b]), return_inverse=True)
    edges = np.stack([idx[: len(a)], idx[len(a) :]], axis=1)
    graph = ig.Graph(n=len(nodes), edges=edges.tolist(), directed=False)
    graph.es["weight"] = np.asarray(weight, float).tolist()
    community = np.full(len(nodes), -1, np.int64)
    next_id = 0
    for members in graph.connected_components():
        if len(members) <= 3:  # nothing to split: a pair or a triangle or path is one community
            community[members] = next_id
            next_id += 1
            continue
        sub = graph.induced_subgraph(members)
        part = leidenalg.find_partition(
            sub,
            leidenalg.RBConfigurationVertexPartition,
            weights="weight",
            resolution_parameter=resolution,
            n_iterations=-1,
            seed=seed,
        )
        membership = np.asarray(part.membership, np.int64)
        community[members] = membership + next_id
        next_id += int(membership.max()) + 1
    return nodes, community
