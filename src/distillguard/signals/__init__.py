"""Per-exchange request signals (the map step) and the global template assignment.

- ``compute_signals(table) -> table``: ``SIGNAL_SCHEMA`` columns for a batch of exchanges.
- ``assign_templates(con) -> table``: (exchange_id, template_id) over the ``exchanges`` view;
  in two steps, ``template_mapping(con)`` (skeleton_hash, template_id) and
  ``exchange_templates(con, mapping)``.
- ``score_prompt(user_text, system_text) -> dict``: the same signals for one request.
- ``explain_prompt(user_text, system_text) -> dict``: the rule behind each content score.

The names are imported on first use: map workers need the per-exchange signals only, not the
template grouping's sparse-graph libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from distillguard.lazy import lazy_exports

if TYPE_CHECKING:
    from distillguard.signals.compute import SIGNAL_FIELDS, SIGNAL_SCHEMA, compute_signals
    from distillguard.signals.fast import explain_prompt, score_prompt
    from distillguard.signals.templates import (
        TEMPLATES_SCHEMA,
        assign_templates,
        exchange_templates,
        group_skeletons,
        template_mapping,
    )

_EXPORTS = {
    "SIGNAL_FIELDS": "compute",
    "SIGNAL_SCHEMA": "compute",
    "compute_signals": "compute",
    "explain_prompt": "fast",
    "score_prompt": "fast",
    "TEMPLATES_SCHEMA": "templates",
    "assign_templates": "templates",
    "group_skeletons": "templates",
    "exchange_templates": "templates",
    "template_mapping": "templates",
}
__all__ = [
    "SIGNAL_FIELDS",
    "SIGNAL_SCHEMA",
    "TEMPLATES_SCHEMA",
    "assign_templates",
    "compute_signals",
    "exchange_templates",
    "explain_prompt",
    "group_skeletons",
    "score_prompt",
    "template_mapping",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
