"""Render a finding's evidence (any JSON value) as compact, escaped HTML.

Detectors evolve and each puts what it likes in `evidence`, so the report renders it generically:
a mapping becomes a definition list, a list of records an ordered list, a list of values a row of
chips; bulky values fold away under a "N items" toggle, and long lists are cut with a count of what
was left out (the full evidence stays in findings.jsonl). Every leaf goes through `escape`: evidence
quotes prompts, account ids and user agents, all attacker-controlled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

RECORDS_SHOWN = 6  # records of a list of records
VALUES_SHOWN = 16  # values of a list of values
MAX_DEPTH = 4


def scalar(value: Any) -> str:
    """A value as a short string: floats to 3 significant digits, integers with thousands separators."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _bulky(value: Any) -> bool:
    if isinstance(value, Mapping):
        return len(value) > 3
    if isinstance(value, list | tuple):
        return len(value) > 8 or (bool(value) and isinstance(value[0], Mapping))
    return False


def render_evidence(value: Any) -> Markup:
    """HTML for one evidence value; nested values deeper than MAX_DEPTH are shown as text."""
    return Markup(_render(value, 0))


def _text(value: Any) -> str:
    # The replacements of markupsafe.escape, byte for byte, without a Markup object per leaf.
    text = value if type(value) is str else scalar(value)
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def _render(value: Any, depth: int) -> str:
    # Plain strings with every leaf escaped: string building here is hot (hundreds of drill-downs),
    # and Markup.format costs several times more than an f-string.
    if isinstance(value, Mapping):
        rows = []
        for key, item in value.items():
            inner = _render(item, depth + 1)
            if depth == 0 and _bulky(item):
                label = f"{len(item)} {'entries' if isinstance(item, Mapping) else 'items'}"
                inner = f"<details><summary>{label}</summary>{inner}</details>"
            rows.append(f"<dt>{_text(key)}</dt><dd>{inner}</dd>")
        return f"<dl>{''.join(rows)}</dl>"
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], Mapping) and depth < MAX_DEPTH:
            items = "".join(f"<li>{_render(v, depth + 1)}</li>" for v in value[:RECORDS_SHOWN])
            return f'<ol class="ev-list">{items}</ol>{_more(len(value) - RECORDS_SHOWN)}'
        chips = " ".join(f"<code>{_text(v)}</code>" for v in value[:VALUES_SHOWN])
        return chips + _more(len(value) - VALUES_SHOWN)
    return _text(value)


def _more(left: int) -> str:
    return f' <span class="meta">+{left} more</span>' if left > 0 else ""
