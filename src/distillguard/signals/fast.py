"""The gateway's single-request fast path: the same signals as the map step, for one prompt.

``score_prompt`` uses Python ``re`` with the very patterns the column path runs through RE2
(ASCII classes on both sides), so a prompt scores the same at the gateway and in a batch scan.
"""

from __future__ import annotations

from typing import Any

from distillguard.signals.capability import capability_text
from distillguard.signals.elicitation import explain_text, score_text
from distillguard.signals.normalize import clip_text, fold_case_space, normalize_text
from distillguard.signals.skeleton import skeleton_hash, skeleton_text


def score_prompt(
    user_text: str | None,
    system_text: str | None = None,
    *,
    tool_count: int = 0,
    tool_result_count: int = 0,
    image_count: int = 0,
) -> dict[str, Any]:
    """Signals of one request: skeleton_hash, cot_elicitation, rubric_grading,
    censorship_rewrite, capability. Pure and thread-safe; equal to ``compute_signals`` on a
    one-row table with the same inputs (up to float32 rounding of the scores)."""
    user = normalize_text(clip_text(user_text))
    system = normalize_text(clip_text(system_text))
    content = fold_case_space(system + "\n" + user)
    scores = score_text(content)
    return {
        "skeleton_hash": skeleton_hash(skeleton_text(user)),
        **scores,
        "capability": capability_text(content, tool_count, tool_result_count, image_count),
    }


def explain_prompt(user_text: str | None, system_text: str | None = None) -> dict[str, str | None]:
    """For evidence: the rule behind each content score of one request (its reason, a short
    phrase such as "asks for the reasoning behind a given answer"), None where the score is 0."""
    system, user = normalize_text(clip_text(system_text)), normalize_text(clip_text(user_text))
    content = fold_case_space(system + "\n" + user)
    return explain_text(content)
