"""Detectors on what an account asks for: reasoning harvest, shared skeletons, narrow focus."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from distillguard.detect.base import register
from distillguard.detect.rules import AccountRule, column, ramp


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{100 * float(x):.0f}%"


@register
class ReasoningHarvest(AccountRule):
    id = "reasoning-harvest"
    description = (
        "A large share of the account's prompts ask for written-out step-by-step reasoning behind an "
        "answer, act-as-a-grader rubrics or censorship-safe rewrites (chain-of-thought harvesting)."
    )
    false_positives = "Evaluation runners on CoT benchmarks; tutoring apps that ask the model to show work."
    evidence_fields = (
        "exchanges",
        "harvest_share",
        "elicit_share",
        "system_harvest_share",
        "cot_share",
        "rubric_share",
        "rewrite_share",
        "thinking_share",
        "reasoning_char_share",
    )
    defaults: ClassVar[dict[str, float]] = {
        "share_lo": 0.15,
        "share_hi": 0.6,
        "system_lo": 0.1,
        "system_hi": 0.4,
        "elicit_lo": 0.9,
        "elicit_hi": 1.0,
        "min_exchanges": 5,
        "elicit_min_exchanges": 30,
    }
    examples_where = (
        "GREATEST(COALESCE(e.cot_elicitation, 0), COALESCE(e.rubric_grading, 0), "
        "COALESCE(e.censorship_rewrite, 0)) >= 0.25"
    )

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        strong = ramp(column(f, "harvest_share", 0), o["share_lo"], o["share_hi"])
        # A system prompt that declares the answers training data (or poses as another vendor's
        # model) is written for a harvest, whatever the user turns ask.
        system = ramp(column(f, "system_harvest_share", 0), o["system_lo"], o["system_hi"])
        # Moderate elicitation on (nearly) every request of a long stream: one "explain your
        # reasoning" is homework, nothing but rotated reasoning phrasings is a script. Students
        # asking to be shown the work reach high shares too, hence the high bar.
        moderate = ramp(column(f, "elicit_share", 0), o["elicit_lo"], o["elicit_hi"])
        moderate = moderate * (n >= o["elicit_min_exchanges"])
        return np.maximum.reduce([strong, system, moderate]) * (n >= o["min_exchanges"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"{_pct(r.get('harvest_share'))} of {r.get('exchanges')} prompts elicit reasoning traces, "
            f"grading or rewrites (chain-of-thought {_pct(r.get('cot_share'))}, "
            f"rubric {_pct(r.get('rubric_share'))}, rewrite {_pct(r.get('rewrite_share'))}); "
            f"{_pct(r.get('elicit_share'))} at least ask for reasoning or carry a system prompt written "
            f"for harvesting ({_pct(r.get('system_harvest_share'))})."
        )


@register
class SharedTemplate(AccountRule):
    id = "shared-template"
    description = (
        "Most of the account's traffic reuses prompt skeletons that many other accounts also send, "
        "each repeated many times: one script driving many accounts."
    )
    false_positives = (
        "Public benchmark prompts sent by several independent eval runners; popular prompts that many "
        "people type; a shared SDK's default prompt."
    )
    evidence_fields = (
        "exchanges",
        "shared_template_share",
        "max_template_accounts",
        "shared_repeated_templates",
        "template_diversity",
        "shared_system_share",
        "max_system_accounts",
    )
    defaults: ClassVar[dict[str, float]] = {
        "share_lo": 0.3,
        "share_hi": 0.8,
        "accounts_lo": 3,
        "accounts_hi": 10,
        "repeated_lo": 2,
        "repeated_hi": 6,
        "min_exchanges": 5,
    }

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        # Sharing alone is common (popular prompts); a script shows as shared skeletons that the
        # account itself sends again and again.
        return (
            ramp(column(f, "shared_template_share", 0), o["share_lo"], o["share_hi"])
            * ramp(column(f, "max_template_accounts", 0), o["accounts_lo"], o["accounts_hi"])
            * ramp(column(f, "shared_repeated_templates", 0), o["repeated_lo"], o["repeated_hi"])
            * (n >= o["min_exchanges"])
        )

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"{_pct(r.get('shared_template_share'))} of {r.get('exchanges')} prompts use skeletons shared "
            f"with other accounts (up to {r.get('max_template_accounts')} accounts per skeleton); "
            f"{r.get('shared_repeated_templates')} shared skeletons are sent repeatedly."
        )


@register
class ReasoningBudget(AccountRule):
    id = "reasoning-budget"
    description = (
        "Most requests ask for extended thinking or a high reasoning effort, and the reasoning comes "
        "back (or is asked for at the highest level): the account is collecting reasoning traces."
    )
    false_positives = "Evaluation runners measuring a reasoning model; research on reasoning."
    evidence_fields = (
        "exchanges",
        "reasoning_requested_share",
        "reasoning_high_share",
        "thinking_share",
        "effort_high_share",
        "thinking_budget_mean",
        "reasoning_char_share",
        "reasoning_token_share",
        "max_tokens_mean",
    )
    defaults: ClassVar[dict[str, float]] = {
        "share_lo": 0.15,
        "share_hi": 0.5,
        "reasoning_lo": 0.2,
        "reasoning_hi": 0.5,
        "min_exchanges": 10,
    }

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        asked = np.maximum.reduce(
            [column(f, c, 0) for c in ("reasoning_requested_share", "thinking_share", "effort_high_share")]
        )
        # Providers that hide the reasoning return none of its text: then the reasoning tokens
        # billed (the trace was produced and paid for) and the level asked for speak.
        got = np.maximum.reduce(
            [
                ramp(column(f, "reasoning_char_share", 0), o["reasoning_lo"], o["reasoning_hi"]),
                ramp(column(f, "reasoning_high_share", 0), o["share_lo"], o["share_hi"]),
                ramp(column(f, "reasoning_token_share", 0), o["share_lo"], o["share_hi"]),
            ]
        )
        return ramp(asked, o["share_lo"], o["share_hi"]) * got * (n >= o["min_exchanges"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        asked = max(float(r.get(c) or 0) for c in ("reasoning_requested_share", "thinking_share"))
        return (
            f"{_pct(asked)} of {r.get('exchanges')} requests ask for extended reasoning "
            f"({_pct(r.get('reasoning_high_share'))} at the highest level); "
            f"{_pct(r.get('reasoning_char_share'))} of the returned text is reasoning, "
            f"{_pct(r.get('reasoning_token_share'))} of the requests were billed reasoning tokens."
        )


@register
class TemplateConcentration(AccountRule):
    id = "template-concentration"
    description = "High volume concentrated on very few prompt skeletons (low template diversity)."
    false_positives = "Nightly eval suites, synthetic-data jobs, CI agents with a fixed task prompt."
    evidence_fields = ("exchanges", "distinct_templates", "template_diversity", "top_template_share")
    defaults: ClassVar[dict[str, float]] = {"diversity_hi": 0.3, "diversity_lo": 0.05, "min_exchanges": 50}

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        low_div = 1.0 - ramp(column(f, "template_diversity", 1), o["diversity_lo"], o["diversity_hi"])
        return low_div * ramp(n, o["min_exchanges"], 4 * o["min_exchanges"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"{r.get('exchanges')} prompts use only {r.get('distinct_templates')} skeletons; the most used "
            f"one carries {_pct(r.get('top_template_share'))} of them."
        )


@register
class CapabilityFocus(AccountRule):
    id = "capability-focus"
    description = "High volume concentrated on one narrow capability (e.g. agentic coding, tool use, math)."
    false_positives = "CI coding agents, single-purpose apps (a coding assistant)."
    evidence_fields = ("exchanges", "top_capability", "top_capability_share", "distinct_capabilities")
    defaults: ClassVar[dict[str, float]] = {"share_lo": 0.7, "share_hi": 0.95, "min_exchanges": 50}

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        cap = [c or "" for c in f.column("top_capability").to_pylist()]
        # Plain chat is the broad default class, not a narrow capability.
        narrow = np.array([c not in ("", "chat") for c in cap])
        return (
            ramp(column(f, "top_capability_share", 0), o["share_lo"], o["share_hi"])
            * ramp(n, o["min_exchanges"], 4 * o["min_exchanges"])
            * narrow
        )

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"{_pct(r.get('top_capability_share'))} of {r.get('exchanges')} prompts target one capability "
            f"({r.get('top_capability')})."
        )


@register
class SharedSystemPrompt(AccountRule):
    id = "shared-system-prompt"
    description = (
        "Much of the account's traffic runs under specific system prompts (not stock one-line defaults) "
        "that accounts of several other organisations also send while the rest of the pool does not: "
        "one operator's prompt set driving many accounts, even when mixed with other traffic."
    )
    false_positives = (
        "Accounts of one customer sharing its product's system prompt; users of one open-source app "
        "with a long built-in system prompt."
    )
    evidence_fields = (
        "exchanges",
        "key_system_share",
        "key_system_prompts",
        "max_system_accounts",
        "distinct_system_prompts",
    )
    defaults: ClassVar[dict[str, float]] = {
        "share_lo": 0.3,
        "share_hi": 0.8,
        "volume_lo": 100,
        "volume_hi": 400,
        "prompts_full": 2,
        "min_exchanges": 10,
    }

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        key_share = column(f, "key_system_share", 0)
        # A share for a dedicated account; a volume for one that mixes the script's traffic with
        # real customers' (a reseller), where the share is diluted but the count is not.
        share = np.maximum(
            ramp(key_share, o["share_lo"], o["share_hi"]),
            ramp(key_share * n, o["volume_lo"], o["volume_hi"]),
        )
        # A rotated set of shared prompts is a script's; a single one may be a product's.
        prompts = np.clip(column(f, "key_system_prompts", 0) / max(o["prompts_full"], 1), 0.0, 1.0)
        return share * prompts * (n >= o["min_exchanges"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"{100 * float(r.get('key_system_share') or 0):.0f}% of {r.get('exchanges')} requests use "
            f"{r.get('key_system_prompts')} specific system prompts that other accounts also send "
            f"(up to {r.get('max_system_accounts')} accounts per prompt)."
        )
