"""Small inline SVG pictures for the report: bars, stacked timelines, hour-of-day cadence, link graph.

Drill-downs need hundreds of small pictures, so these are written directly as SVG markup (a few
microseconds each) rather than through a plotting library. Every label passes through `esc`:
account ids, user agents and template text come from the traffic and may carry markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

# Colour-blind-safe palette (Okabe-Ito), reused for models and clusters.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MUTED = "#9aa3ad"


def esc(value: Any) -> str:
    return escape(str(value), quote=True)


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def hbars(
    items: Sequence[tuple[str, float]],
    width: int = 320,
    bar_h: int = 16,
    label_w: int = 120,
    fill: str = PALETTE[0],
) -> str:
    """Horizontal bars with labels and values, e.g. a capability mix."""
    if not items:
        return ""
    top = max(v for _, v in items) or 1
    h = bar_h * len(items) + 4
    parts = [f'<svg class="plot hbars" width="{width}" height="{h}" viewBox="0 0 {width} {h}" role="img">']
    span = width - label_w - 60
    for i, (label, value) in enumerate(items):
        y = i * bar_h + 2
        w = max(1.0, span * value / top)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 5}" text-anchor="end">{esc(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 4}" fill="{fill}">'
            f"<title>{esc(label)}: {value:,.0f}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 5}">{value:,.0f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_timeline(
    series: dict[str, list[int]], models: Sequence[str], width: int = 360, height: int = 70
) -> str:
    """Exchanges per time bin as stacked steps, one band per model (the order of `models` fixes the
    colours). One polygon per model keeps hundreds of drill-downs light."""
    if not series:
        return ""
    bins = len(next(iter(series.values())))
    totals = [sum(s[i] for s in series.values()) for i in range(bins)]
    scale = (height - 2) / (max(totals) or 1)
    bw = width / bins
    parts = [
        f'<svg class="plot timeline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img">',
        f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#ccc"/>',
    ]
    base = [0.0] * bins
    for m in models:
        counts = series.get(m)
        if not counts or not any(counts):
            continue
        top = [base[i] + counts[i] for i in range(bins)]
        upper = [(x, height - top[i] * scale) for i in range(bins) for x in (i * bw, (i + 1) * bw)]
        lower = [(x, height - base[i] * scale) for i in reversed(range(bins)) for x in ((i + 1) * bw, i * bw)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower)
        parts.append(
            f'<polygon points="{points}" fill="{color(models.index(m))}">'
            f"<title>{esc(m)}: {sum(counts):,} exchanges</title></polygon>"
        )
        base = top
    parts.append("</svg>")
    return "".join(parts)


def hour_cadence(hours: Sequence[int], reference: Sequence[float], width: int = 360, height: int = 70) -> str:
    """Exchanges per UTC hour of day as bars, with the reference human day as a line over them."""
    total = sum(hours) or 1
    shares = [h / total for h in hours]
    top = max([*shares, *reference, 0.01])
    bw = width / 24
    parts = [
        f'<svg class="plot cadence" width="{width}" height="{height + 12}" '
        f'viewBox="0 0 {width} {height + 12}" role="img">'
    ]
    for i, s in enumerate(shares):
        h = (height - 2) * s / top
        parts.append(
            f'<rect x="{i * bw:.1f}" y="{height - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}"><title>{i:02d}:00 UTC: {hours[i]} exchanges</title></rect>'
        )
    if reference:
        pts = " ".join(
            f"{(i + 0.5) * bw:.1f},{height - (height - 2) * r / top:.1f}" for i, r in enumerate(reference)
        )
        parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{PALETTE[5]}" stroke-width="1.5">'
            "<title>reference: unflagged accounts</title></polyline>"
        )
    for i in (0, 6, 12, 18):
        parts.append(f'<text x="{i * bw:.1f}" y="{height + 11}" class="tick">{i:02d}h</text>')
    parts.append("</svg>")
    return "".join(parts)


def link_graph(
    nodes: list[dict[str, Any]],
    edges: list[tuple[int, int, str]],
    coords: list[tuple[float, float]],
    width: int = 720,
    height: int = 460,
) -> str:
    """The account graph: nodes at precomputed layout coordinates, coloured by cluster; a node carries
    `data-account` so a click opens that account's drill-down."""
    if not nodes:
        return ""
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = 16

    def px(i: int) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * ((coords[i][0] - x0) / ((x1 - x0) or 1))
        y = pad + (height - 2 * pad) * ((coords[i][1] - y0) / ((y1 - y0) or 1))
        return x, y

    pos = [px(i) for i in range(len(nodes))]
    parts = [
        f'<svg class="plot graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    for a, b, kinds in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        parts.append(
            f'<line x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" stroke="#b8c0c8">'
            f"<title>{esc(nodes[a]['id'])} — {esc(nodes[b]['id'])}: {esc(kinds)}</title></line>"
        )
    for i, node in enumerate(nodes):
        x, y = pos[i]
        ring = ' stroke="#c00" stroke-width="2"' if node["flagged"] else ' stroke="#fff"'
        fill = node["color"]
        parts.append(
            f'<circle class="node" cx="{x:.1f}" cy="{y:.1f}" r="{node["r"]:.1f}" fill="{fill}"{ring} '
            f'data-account="{esc(node["id"])}"><title>{esc(node["id"])} ({esc(node["cluster"])}, '
            f"risk {node['risk']:.2f})</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
