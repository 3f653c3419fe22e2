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
import pyarrow.compute as pc

from distillguard.signals import multiscan
from distillguard.signals.elicitation import family_hits
from distillguard.signals.patterns import CAPABILITY_FAMILIES, PERSONA_FAMILIES
from distillguard.signals.regex import search_pattern

CAPABILITIES = ("coding", "tool_use", "math_reasoning", "data_analysis", "vision", "chat", "roleplay")
PRIORITY = ("tool_use", "vision", "coding", "data_analysis", "math_reasoning", "roleplay", "chat")
_PRIORITY_NAMES = pa.array(PRIORITY, pa.string())
_RE2 = {k: "(?m)" + v for k, v in {**CAPABILITY_FAMILIES, **PERSONA_FAMILIES}.items()}
_COMPILED = {k: search_pattern(v) for k, v in _RE2.items()}


def text_tags(
    folded: pa.Array, hits: dict[str, dict[str, np.ndarray]] | None = None
) -> dict[str, np.ndarray]:
    """Keyword-family hits per capability for a column of folded text: from `hits`
    (``multiscan.family_hits`` of the column) when given, else Hyperscan's when installed,
    else RE2 scans in Arrow."""
    if hits is None:
        hits = multiscan.family_hits(folded)
    if hits is not None:
        return dict(hits[multiscan.CAPABILITY])
    return family_hits(folded, _RE2)


def finish_tags(
    tags: dict[str, np.ndarray], uses_tools: np.ndarray, has_images: np.ndarray
) -> tuple[dict[str, np.ndarray], pa.Array]:
    """Add the structural hints, derive ``chat``, and pick the primary capability per row
    (a string column)."""
    tags = dict(tags)
    tags["roleplay"] = tags["roleplay"] | (tags.pop("persona") & ~tags.pop("assistant_persona"))
    tags["tool_use"] = tags["tool_use"] | uses_tools
    tags["vision"] = tags["vision"] | has_images
    tags["chat"] = ~np.logical_or.reduce([tags[c] for c in CAPABILITIES if c != "chat"])
    code = np.full(len(uses_tools), PRIORITY.index("chat"), dtype=np.int32)
    for i in range(len(PRIORITY) - 2, -1, -1):  # from lowest priority up: the highest is set last
        code[tags[PRIORITY[i]]] = i
    return tags, pc.take(_PRIORITY_NAMES, pa.array(code))


def capability_text(folded: str, tool_count: int = 0, tool_results: int = 0, image_count: int = 0) -> str:
    """Primary capability of one folded text; equal to the column path (``text_tags`` and
    ``finish_tags``) per row."""
    hit = {k: rx.search(folded) is not None for k, rx in _COMPILED.items()}
    hit["roleplay"] = hit["roleplay"] or (hit["persona"] and not hit["assistant_persona"])
    hit["tool_use"] = hit["tool_use"] or tool_count > 0 or tool_results > 0
    hit["vision"] = hit["vision"] or image_count > 0
    return next((cap for cap in PRIORITY[:-1] if hit[cap]), "chat")
