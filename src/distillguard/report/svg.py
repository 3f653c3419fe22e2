"""Inline SVG pictures for the report: bars, stacked timelines (with axes for the overview and the
campaigns), hour-of-day cadence, link graph.

Drill-downs need hundreds of small pictures, so every picture is written directly as SVG markup
(microseconds each) rather than through a plotting library. Every label passes through `esc`:
account ids, user agents and template text come from the traffic and may carry markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
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
    return "".join(
        [
            f'<svg class="plot timeline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            'role="img">',
            f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#ccc"/>',
            *_bands(series, models, bins, (0, height, width / bins, (height - 2) / (max(totals) or 1))),
            "</svg>",
        ]
    )


def _bands(
    series: dict[str, list[int]], models: Sequence[str], bins: int, frame: tuple[float, float, float, float]
) -> list[str]:
    """One stacked step polygon per model with traffic; `frame` is (left, baseline y, bin width,
    pixels per exchange)."""
    left, floor, bw, scale = frame
    out = []
    base = [0.0] * bins
    for m in models:
        counts = series.get(m)
        if not counts or not any(counts):
            continue
        upper = [base[i] + (counts[i] if i < len(counts) else 0) for i in range(bins)]
        edge = [(left + x * bw, floor - upper[i] * scale) for i in range(bins) for x in (i, i + 1)]
        back = [(left + x * bw, floor - base[i] * scale) for i in reversed(range(bins)) for x in (i + 1, i)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in edge + back)
        out.append(
            f'<polygon points="{points}" fill="{color(models.index(m))}">'
            f"<title>{esc(m)}: {sum(counts):,} exchanges</title></polygon>"
        )
        base = upper
    return out


# Spacing of the time axis' ticks, in seconds: the smallest that leaves at most MAX_TIME_TICKS.
_TICK_STEPS = (300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2419200)
MAX_TIME_TICKS = 8


def time_chart(
    series: dict[str, list[int]],
    models: Sequence[str],
    axis: dict[str, Any],
    y_label: str,
    width: int = 720,
    height: int = 180,
) -> str:
    """Exchanges per time bin as stacked steps, one band per model (the order of `models` fixes
    the colours), with a count axis and a UTC time axis: dates at midnight, hours between. `axis`
    is the report's time axis (first_bin, bins, width in seconds)."""
    if not series:
        return ""
    left, right, top, bottom = 52, 24, 6, 20  # room for the tick labels at either end
    pw, ph = width - left - right, height - top - bottom
    bins, step = axis["bins"], axis["width"]
    t0, t1 = axis["first_bin"] * step, (axis["first_bin"] + bins) * step
    totals = [sum(counts[i] for counts in series.values() if i < len(counts)) for i in range(bins)]
    y_max = _nice_ceiling(max(totals, default=0))
    scale = ph / y_max
    parts = [
        f'<svg class="plot chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img">'
    ]
    for value in (0, y_max / 2, y_max):
        y = top + ph - value * scale
        digits = 0 if value == int(value) else 1
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e3e6ea"/>'
            f'<text class="tick" x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{value:,.{digits}f}</text>'
        )
    mid = top + ph / 2
    parts.append(
        f'<text class="tick" x="10" y="{mid:.1f}" text-anchor="middle" transform="rotate(-90 10 {mid:.1f})">'
        f"{esc(y_label)}</text>"
    )
    parts += _bands(series, models, bins, (left, top + ph, pw / bins, scale))
    parts.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#888"/>')
    tick = next((s for s in _TICK_STEPS if (t1 - t0) / s <= MAX_TIME_TICKS), _TICK_STEPS[-1])
    for t in range(-(-t0 // tick) * tick, t1 + 1, tick):
        x = left + (t - t0) / (t1 - t0) * pw
        when = datetime.fromtimestamp(t, UTC)
        at_midnight = tick >= 86400 or (when.hour, when.minute) == (0, 0)
        label = when.strftime("%b %d" if at_midnight else "%H:%M")
        parts.append(
            f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 4}" stroke="#888"/>'
            f'<text class="tick" x="{x:.1f}" y="{height - 4}" text-anchor="middle">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value` (1 at least)."""
    if value <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= value)


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
