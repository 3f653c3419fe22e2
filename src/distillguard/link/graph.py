"""The weighted account graph and its communities (Leiden, via igraph + leidenalg).

Leiden runs on each connected component separately, with the RB-configuration (modularity)
quality function at `resolution` < 1. Per component, because modularity's null model is global:
on the whole graph, whether one campaign is split in two would depend on how much *unrelated*
traffic the scan holds (the resolution limit). Within its own component, a pool whose links are
uniformly dense stays whole for any resolution below 1, while two pools joined by a few stray
links (a proxy exit both happened to use) come apart.
"""

from __future__ import annotations

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
    import igraph as ig  # here, not at the top: linking without edges never needs the graph library
    import leidenalg

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


def merge_operator_linked(
    community: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    backed: np.ndarray,
    *,
    ratio: float,
    min_links: int,
) -> np.ndarray:
    """Merge communities that operator evidence does not tell apart; return the new numbering.

    `community[i]` is node i's community, (src[j], dst[j]) the edges over node indices, and
    `backed[j]` whether edge j carries operator evidence (payment, network, client, email domain,
    cadence: evidence that does not coincide by chance). Leiden cuts where content changes: one
    operator's two scripts or two API shapes send different prompts, and their accounts link
    densely within each script.
    Whether the parts are one operator is what operator evidence says: two communities are merged
    when their operator-backed links to each other are at least `ratio` times as dense as those
    inside them (geometric mean of the two) and number at least `min_links`. Unrelated groups
    share operator evidence only by coincidence, far more thinly than within themselves.
    """
    comm = np.asarray(community, np.int64).copy()
    if ratio <= 0 or len(src) == 0:
        return comm
    src, dst = np.asarray(src, np.int64)[backed], np.asarray(dst, np.int64)[backed]
    while True:
        size = np.bincount(comm)
        ca, cb = comm[src], comm[dst]
        inside = np.bincount(ca[ca == cb], minlength=len(size))
        lo, hi = np.minimum(ca, cb), np.maximum(ca, cb)
        cross = lo != hi
        if not cross.any():
            return comm
        pairs, links = np.unique(np.stack([lo[cross], hi[cross]], axis=1), axis=0, return_counts=True)
        # Density of operator links inside a community. One with none inside (linked by content
        # alone, or a single account) counts as fully dense: nothing then makes a few cross links
        # look dense next to it.
        possible = np.maximum(size * (size - 1) / 2, 1)
        within = np.where(inside > 0, inside / possible, 1.0)
        p, q = pairs[:, 0], pairs[:, 1]
        score = links / (size[p] * size[q]) / np.sqrt(within[p] * within[q])
        ok = (score >= ratio) & (links >= min_links)
        if not ok.any():
            return comm
        # Best pairs first, each community in one merge per round; renumbered once per round.
        remap = np.arange(len(size))
        taken: set[int] = set()
        for i in np.argsort(-score, kind="stable"):
            if ok[i] and int(p[i]) not in taken and int(q[i]) not in taken:
                remap[q[i]] = p[i]
                taken.update((int(p[i]), int(q[i])))
        comm = remap[comm]
