"""Detectors on where traffic comes from and who the account is: IP rotation, abused tiers, budgets."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from distillguard.detect.base import register
from distillguard.detect.rules import AccountRule, column, ramp, text_column

ABUSED_TIERS = ("education", "research", "startup")


@register
class IpRotation(AccountRule):
    id = "ip-rotation"
    description = (
        "Requests spread over many client networks (/24 blocks) relative to volume "
        "(proxy pools, an IP per request)."
    )
    false_positives = "Serverless apps and mobile clients with a fresh IP per request."
    evidence_fields = (
        "exchanges",
        "distinct_ips",
        "distinct_subnets",
        "distinct_asns",
        "distinct_user_agents",
        "distinct_api_keys",
        "ips_per_exchange",
        "subnets_per_exchange",
    )
    defaults: ClassVar[dict[str, float]] = {"ratio_lo": 0.3, "ratio_hi": 0.8, "min_exchanges": 20}

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        # Spread over /24 networks, not addresses: a campus or office NAT hands out many addresses
        # of one block, a proxy pool or an IP-per-request service many blocks.
        ratio = ramp(column(f, "subnets_per_exchange", 0), o["ratio_lo"], o["ratio_hi"])
        return ratio * (n >= o["min_exchanges"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"{r.get('exchanges')} requests came from {r.get('distinct_ips')} IPs in "
            f"{r.get('distinct_subnets')} subnets and {r.get('distinct_asns')} networks, with "
            f"{r.get('distinct_user_agents')} user agents."
        )


@register
class FingerprintRotation(AccountRule):
    id = "fingerprint-rotation"
    description = (
        "The client's TLS/HTTP2 fingerprint changes from request to request: a real client library "
        "keeps one fingerprint, a harvesting script randomises it to look like many clients."
    )
    false_positives = "A gateway that forwards many different end-user clients under one account."
    evidence_fields = ("exchanges", "fp_exchanges", "distinct_client_fps", "fps_per_exchange", "distinct_ips")
    defaults: ClassVar[dict[str, float]] = {"ratio_lo": 0.3, "ratio_hi": 0.8, "min_exchanges": 10}

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        seen = column(f, "fp_exchanges", 0)
        ratio = ramp(column(f, "fps_per_exchange", 0), o["ratio_lo"], o["ratio_hi"])
        return ratio * (seen >= o["min_exchanges"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"{r.get('distinct_client_fps')} distinct client fingerprints over {r.get('fp_exchanges')} "
            "fingerprinted requests."
        )


@register
class SharedPayment(AccountRule):
    id = "shared-payment"
    description = "The account's payment method also pays for accounts of other, unrelated organisations."
    false_positives = "Agencies or resellers paying for their clients' accounts; a parent company's card."
    evidence_fields = ("payment_fingerprint", "payment_accounts", "payment_orgs", "tier", "verified")
    defaults: ClassVar[dict[str, float]] = {"orgs_lo": 1, "orgs_hi": 4}

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        return ramp(column(f, "payment_orgs", 0), o["orgs_lo"], o["orgs_hi"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"Its payment method pays for {r.get('payment_accounts')} accounts in "
            f"{r.get('payment_orgs')} different organisations."
        )


@register
class AbusedTier(AccountRule):
    id = "abused-tier"
    description = "An unverified account on a tier most abused for harvesting (education, research, startup)."
    false_positives = "Most such accounts are legitimate: this is context that only adds to other evidence."
    evidence_fields = ("tier", "verified", "age_at_first_days", "payment_accounts")
    defaults: ClassVar[dict[str, float]] = {"unverified_score": 0.6, "verified_score": 0.0}

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        tier = text_column(f, "tier")
        abused = np.array([(t or "") in ABUSED_TIERS for t in tier])
        verified = column(f, "verified", 0) > 0
        return abused * np.where(verified, o["verified_score"], o["unverified_score"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        state = "verified" if r.get("verified") else "unverified"
        return f"A {state} account on the {r.get('tier')} tier, one of the paths most abused for harvesting."


@register
class MaxedBudgets(AccountRule):
    id = "maxed-budgets"
    description = (
        "Every request asks for the largest answer and reasoning budget with no variation: a harvesting "
        "script maximising tokens per call."
    )
    false_positives = "Batch jobs with a fixed client configuration."
    evidence_fields = (
        "exchanges",
        "max_tokens_mean",
        "max_tokens_std",
        "thinking_share",
        "thinking_budget_mean",
        "effort_high_share",
        "output_tokens_mean",
    )
    defaults: ClassVar[dict[str, float]] = {"max_tokens_lo": 2000, "max_tokens_hi": 8000, "min_exchanges": 20}

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        fixed = column(f, "max_tokens_std", np.inf) < 1.0
        big = ramp(column(f, "max_tokens_mean", 0), o["max_tokens_lo"], o["max_tokens_hi"])
        think = np.maximum(column(f, "thinking_share", 0), column(f, "effort_high_share", 0))
        return fixed * np.maximum(big, think * big) * (n >= o["min_exchanges"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"All {r.get('exchanges')} requests ask for "
            f"max_tokens={float(r.get('max_tokens_mean') or 0):.0f}; "
            f"{100 * float(r.get('thinking_share') or 0):.0f}% request extended thinking."
        )
