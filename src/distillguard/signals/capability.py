"""Capability tags: which model capability an exchange exercises.

Tags combine keyword families over the folded text (``patterns.CAPABILITY_FAMILIES``) with the
request's structure: tool definitions or tool results mean tool use, images mean vision. An
exchange may carry several tags; ``capability`` is the single primary one, chosen in the order
of ``PRIORITY`` (the most specific capability a harvest campaign would target first), and
``chat`` when no other tag applies.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from distillguard.signals.elicitation import family_hits
from distillguard.signals.patterns import CAPABILITY_FAMILIES
from distillguard.signals.regex import compile_pattern

CAPABILITIES = ("coding", "tool_use", "math_reasoning", "data_analysis", "vision", "chat", "roleplay")
PRIORITY = ("tool_use", "vision", "coding", "data_analysis", "math_reasoning", "roleplay", "chat")
_RE2 = {k: "(?m)" + v for k, v in CAPABILITY_FAMILIES.items()}
_COMPILED = {k: compile_pattern(v) for k, v in _RE2.items()}


def text_tags(folded: pa.Array) -> dict[str, np.ndarray]:
    """Keyword-family hits per capability for a column of folded text."""
    return family_hits(folded, _RE2)


def finish_tags(
    tags: dict[str, np.ndarray], uses_tools: np.ndarray, has_images: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Add the structural hints, derive ``chat``, and pick the primary capability per row."""
    tags = dict(tags)
    tags["tool_use"] = tags["tool_use"] | uses_tools
    tags["vision"] = tags["vision"] | has_images
    tags["chat"] = ~np.logical_or.reduce([tags[c] for c in CAPABILITIES if c != "chat"])
    primary = np.full(len(uses_tools), "chat", dtype=object)
    for cap in reversed(PRIORITY[:-1]):  # walk from lowest priority up: the highest is set last
        primary[tags[cap]] = cap
    return tags, primary


def capability_text(folded: str, tool_count: int = 0, tool_results: int = 0, image_count: int = 0) -> str:
    """Primary capability of one folded text; equal to ``capability_array`` per row."""
    hit = {k: rx.search(folded) is not None for k, rx in _COMPILED.items()}
    hit["tool_use"] = hit["tool_use"] or tool_count > 0 or tool_results > 0
    hit["vision"] = hit["vision"] or image_count > 0
    return next((cap for cap in PRIORITY[:-1] if hit[cap]), "chat")
