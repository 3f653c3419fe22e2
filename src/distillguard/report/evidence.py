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

from markupsafe import Markup, escape

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


def render_evidence(value: Any, depth: int = 0) -> Markup:
    """HTML for one evidence value; nested values deeper than MAX_DEPTH are shown as text."""
    if isinstance(value, Mapping):
        rows = []
        for key, item in value.items():
            inner = render_evidence(item, depth + 1)
            if depth == 0 and _bulky(item):
                label = f"{len(item)} {'entries' if isinstance(item, Mapping) else 'items'}"
                inner = Markup("<details><summary>{}</summary>{}</details>").format(label, inner)
            rows.append(Markup("<dt>{}</dt><dd>{}</dd>").format(key, inner))
        return Markup("<dl>{}</dl>").format(Markup("").join(rows))
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], Mapping) and depth < MAX_DEPTH:
            items = Markup("").join(
                Markup("<li>{}</li>").format(render_evidence(v, depth + 1)) for v in value[:RECORDS_SHOWN]
            )
            out = Markup('<ol class="ev-list">{}</ol>').format(items)
            return out + _more(len(value) - RECORDS_SHOWN)
        chips = Markup(" ").join(Markup("<code>{}</code>").format(scalar(v)) for v in value[:VALUES_SHOWN])
        return chips + _more(len(value) - VALUES_SHOWN)
    return escape(scalar(value))


def _more(left: int) -> Markup:
    return Markup(' <span class="meta">+{} more</span>').format(left) if left > 0 else Markup("")
