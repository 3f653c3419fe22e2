"""Report figures drawn with matplotlib (cluster volume per model) and igraph (the linkage graph layout).

Figures are rendered to SVG strings and inlined, so the report opens offline. Text stays text
(`svg.fonttype: none`) which keeps each figure small, and math parsing is off because model names
and labels come from the traffic. matplotlib and igraph are imported on first use, so a report
without links does not load igraph.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

from distillguard.report import svg

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "distillguard",
    "text.parse_math": False,
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
GRAPH_MAX_NODES = 400


def model_timeline(timeline: dict[str, list[int]], models: list[str], axis: dict[str, Any]) -> str:
    """Stacked area of exchanges per model over the scan window: a pivot to a new model shows as a
    change of colour. Returns inline SVG markup (empty when there is nothing to draw)."""
    if not timeline:
        return ""
    width = axis["width"]
    times = [datetime.fromtimestamp((axis["first_bin"] + i) * width, UTC) for i in range(axis["bins"])]
    present = [m for m in models if m in timeline]
    plt, mdates = _pyplot()
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(7.2, 1.9))
        ax.stackplot(
            times,
            [timeline[m] for m in present],
            labels=present,
            colors=[svg.color(models.index(m)) for m in present],
            step="post",
            alpha=0.9,
        )
        ax.set_ylabel(f"exchanges / {_width_label(width)}")
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.margins(x=0)
        fig.tight_layout(pad=0.4)
        out = _to_svg(fig)
        plt.close(fig)
    return out


def _pyplot() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    return plt, mdates


def _width_label(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} d" if seconds > 86400 else "day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h" if seconds > 3600 else "hour"
    return f"{seconds // 60} min"


def _to_svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG is inlined in HTML
    return re.sub(r"<svg ", '<svg class="plot mpl" ', text, count=1)


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
