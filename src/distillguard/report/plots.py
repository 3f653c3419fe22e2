"""Report figures that need more than markup: the cluster and overview timelines (axes and
labels around `svg`'s stacked steps) and the linkage graph, laid out with igraph.

Figures are SVG strings inlined in the page, so the report opens offline. igraph is imported on
first use, so a report without links does not load it.
"""

from __future__ import annotations

from typing import Any

from distillguard.report import svg

GRAPH_MAX_NODES = 400


def model_timeline(timeline: dict[str, list[int]], models: list[str], axis: dict[str, Any]) -> str:
    """Stacked steps of exchanges per model over the scan window: a pivot to a new model shows as a
    change of colour. Returns inline SVG markup (empty when there is nothing to draw)."""
    return svg.time_chart(timeline, models, axis, f"exchanges / {_width_label(axis['width'])}")


def _width_label(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} d" if seconds > 86400 else "day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h" if seconds > 3600 else "hour"
    return f"{seconds // 60} min"


def linkage_graph(
    keep: list[str],
    edges: list[tuple[str, str, str]],
    accounts: dict[str, dict[str, Any]],
    cluster_colors: dict[str, str],
) -> tuple[str, set[str]]:
    """Draw the accounts `keep` and the `edges` (account, account, kinds) between them, laid out with
    igraph and coloured by cluster; `accounts` maps an id to its verdict (cluster_id, risk, flagged,
    exchanges). Returns (svg markup, clusters drawn)."""
    if not keep:
        return "", set()
    import igraph as ig

    index = {a: i for i, a in enumerate(keep)}
    kept_edges = [(index[a], index[b], k) for a, b, k in edges if a in index and b in index]
    g = ig.Graph(n=len(keep), edges=[(a, b) for a, b, _ in kept_edges])
    # A fixed circular start makes the force layout deterministic from scan to scan.
    start = ig.Graph.Ring(len(keep)).layout_circle().coords
    coords = g.layout_fruchterman_reingold(seed=start, niter=300).coords
    nodes = []
    for a in keep:
        v = accounts.get(a, {})
        cluster = v.get("cluster_id") or ""
        volume = float(v.get("exchanges", 0) or 0)
        nodes.append(
            {
                "id": a,
                "cluster": cluster or "unclustered",
                "risk": float(v.get("risk", 0.0)),
                "flagged": bool(v.get("flagged", False)),
                "color": cluster_colors.get(cluster, svg.MUTED),
                "r": 3.5 + min(6.0, volume**0.33 / 2),
            }
        )
    return svg.link_graph(nodes, kept_edges, coords), {n["cluster"] for n in nodes}
