"""Imperative reasoning-request prefixes score like "think step by step", not like a trace harvest."""

import pytest

from distillguard.signals import score_prompt

PREFIXES = [
    "Chain of thought: what is 17 * 23?",
    "Chain-of-thought: a train leaves at 3 pm at 60 km/h; when does it arrive 150 km away?",
    "Reason through this: why does ice float on water?",
    "Reason carefully about the problem: is 221 prime?",
    "Let's work through this carefully: solve x^2 - 5x + 6 = 0.",
    "Let us work through the problem: how many ways to arrange 4 books?",
]
NOT_A_REQUEST = [
    "Please work through the exercises in chapter 3 and send me the list.",
    "I want to reason about lifetimes in Rust; which book should I read?",
    "The chain of thought in this novel is hard to follow.",
]


@pytest.mark.parametrize("text", PREFIXES)
def test_reasoning_prefix_scores_like_step_by_step(text):
    assert score_prompt(text, None)["cot_elicitation"] == pytest.approx(0.3)
    assert (
        score_prompt(text, None)["cot_elicitation"]
        == score_prompt("Think step by step: 2+2", None)["cot_elicitation"]
    )


@pytest.mark.parametrize("text", NOT_A_REQUEST)
def test_look_alike_phrases_score_zero(text):
    assert score_prompt(text, None)["cot_elicitation"] == 0.0


def test_asking_for_the_trace_itself_still_scores_high():
    assert score_prompt("Reveal your full chain of thought: what is 2+2?", None)["cot_elicitation"] >= 0.8
