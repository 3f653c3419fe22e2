"""Online scoring: pure functions from (account state, request signals, shared sketches) to the
named features that policy rules test.

Everything here is O(1) per request. An account's recent behaviour is a handful of exponentially
decayed counters (a decayed count with time constant `tau` is, in steady state, the number of
requests in the last `tau` seconds), and its dominant template is a one-slot decayed
Misra-Gries heavy hitter. Cross-account evidence (how many accounts sent this skeleton lately,
how many in the same few seconds) comes from the state backend's template sketch.
The Redis backend runs the same arithmetic in Lua (see `state_redis.py`); tests check they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ScoringConfig(BaseModel):
    """Windows and caps of the online state (the `scoring:` section of a policy file)."""

    model_config = ConfigDict(extra="forbid")

    rate_tau_s: float = Field(60.0, gt=0, description="time constant of the per-account decayed counters")
    template_window_s: int = Field(600, gt=0, description="bucket of the cross-account template sketch")
    lockstep_slot_s: int = Field(
        2, gt=0, description="slot in which same-skeleton requests count as lockstep"
    )
    template_cap: int = Field(512, gt=0, description="distinct accounts counted per skeleton per bucket")
    harvest_min_score: float = Field(
        0.5, ge=0, le=1, description="cot_elicitation at which a request harvests"
    )
    max_accounts: int = Field(1_000_000, gt=0, description="accounts kept in memory before LRU eviction")
    max_templates: int = Field(200_000, gt=0, description="skeletons kept in memory before LRU eviction")
    account_ttl_s: int = Field(86_400, gt=0, description="idle time after which an account's state expires")
    max_prompt_chars: int = Field(
        2000, ge=100, description="prompt characters scored per request (head and tail of longer ones)"
    )


def bounded_text(text: str, limit: int) -> str:
    """At most `limit` characters of a prompt: its head (3/4) and tail (1/4). Prompt scoring is
    linear in length; templates and reasoning requests show at the start or the end of a prompt,
    so this keeps scoring O(1) per request with little loss."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    return text[: limit - tail] + "\n" + text[-tail:]


@dataclass(slots=True)
class RequestSignals:
    """What the gateway knows about one request before it is forwarded."""

    skeleton: str | None  # template skeleton hash; None when the request has no user text
    cot_elicitation: float
    rubric_grading: float
    censorship_rewrite: float
    capability: str
    thinking_requested: bool
    flavor: str
    model: str


@dataclass(slots=True)
class AccountState:
    """Compact per-account online state (about 0.4 KB in memory, see bench/gateway.py)."""

    first_seen: float
    last_seen: float
    requests: int = 0  # since first seen (or since the state last expired)
    rate: float = 0.0  # decayed request count ~ requests in the last tau seconds
    harvest: float = 0.0  # decayed count of reasoning-harvest requests
    thinking: float = 0.0  # decayed count of requests asking for thinking / reasoning
    top_skeleton: str = ""  # dominant template skeleton (one-slot Misra-Gries)
    top_weight: float = 0.0
    last_action: str = ""  # last non-allow action applied, and by which rule
    last_rule: str = ""
    last_action_at: float = 0.0
    actions: int = 0  # non-allow actions applied so far

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def update_account(
    state: AccountState | None, sig: RequestSignals, now: float, cfg: ScoringConfig
) -> AccountState:
    """Fold one request into an account's state (mutating `state` when given) and return it."""
    if state is None or now - state.last_seen > cfg.account_ttl_s:
        state = AccountState(first_seen=now, last_seen=now)
    decay = math.exp(-max(0.0, now - state.last_seen) / cfg.rate_tau_s)
    state.rate = state.rate * decay + 1.0
    state.harvest = state.harvest * decay + (1.0 if sig.cot_elicitation >= cfg.harvest_min_score else 0.0)
    state.thinking = state.thinking * decay + (1.0 if sig.thinking_requested else 0.0)
    weight = state.top_weight * decay
    if sig.skeleton is not None:
        if sig.skeleton == state.top_skeleton:
            weight += 1.0
        elif weight <= 1.0:
            state.top_skeleton, weight = sig.skeleton, 1.0
        else:
            weight -= 1.0
    state.top_weight = weight
    state.requests += 1
    state.last_seen = now
    return state


@dataclass(frozen=True, slots=True)
class Verdict:
    """An account's verdict from the latest batch scan."""

    risk: float
    flagged: bool
    cluster_id: str


# The features a policy condition may test, with their type. Documented in docs/gateway.md.
FEATURES: dict[str, type] = {
    "recent_requests": float,  # decayed requests in the last rate_tau_s seconds (account)
    "requests_total": float,  # requests since the account was first seen (or its state expired)
    "account_age_s": float,  # seconds since first seen by the gateway
    "harvest_share": float,  # share of recent requests that elicit reasoning
    "thinking_share": float,  # share of recent requests asking for thinking / reasoning
    "template_share": float,  # weight of the account's dominant template in its recent requests
    "template_accounts": float,  # distinct accounts that sent this skeleton in the template window
    "lockstep_accounts": float,  # distinct accounts that sent this skeleton in the same lockstep slot
    "cot_elicitation": float,  # this request's chain-of-thought elicitation score
    "rubric_grading": float,
    "censorship_rewrite": float,
    "thinking_requested": bool,
    "scan_risk": float,  # risk from the latest batch scan, 0 when the account is not in it
    "scan_flagged": bool,
    "scan_clustered": bool,  # the scan linked the account into a cluster
    "capability": str,
    "flavor": str,
    "model": str,
}

NO_VERDICT = Verdict(0.0, False, "")


def account_summary(account: AccountState, now: float, tau_s: float) -> dict[str, float]:
    """The account-level features of `FEATURES`, as of `now` (for the admin API)."""
    decay = math.exp(-max(0.0, now - account.last_seen) / tau_s)
    rate = account.rate if account.rate > 0 else 1.0
    return {
        "recent_requests": account.rate * decay,
        "requests_total": float(account.requests),
        "account_age_s": now - account.first_seen,
        "harvest_share": min(1.0, account.harvest / rate),
        "thinking_share": min(1.0, account.thinking / rate),
        "template_share": min(1.0, account.top_weight / rate),
    }


def features(
    account: AccountState,
    sig: RequestSignals,
    template_accounts: int,
    lockstep_accounts: int,
    verdict: Verdict | None,
    now: float,
) -> dict[str, Any]:
    """The named features of one request, for policy conditions and logs."""
    rate = account.rate if account.rate > 0 else 1.0
    v = verdict or NO_VERDICT
    return {
        "recent_requests": account.rate,
        "requests_total": float(account.requests),
        "account_age_s": now - account.first_seen,
        "harvest_share": min(1.0, account.harvest / rate),
        "thinking_share": min(1.0, account.thinking / rate),
        "template_share": min(1.0, account.top_weight / rate) if sig.skeleton is not None else 0.0,
        "template_accounts": float(template_accounts),
        "lockstep_accounts": float(lockstep_accounts),
        "cot_elicitation": sig.cot_elicitation,
        "rubric_grading": sig.rubric_grading,
        "censorship_rewrite": sig.censorship_rewrite,
        "thinking_requested": sig.thinking_requested,
        "scan_risk": v.risk,
        "scan_flagged": v.flagged,
        "scan_clustered": bool(v.cluster_id),
        "capability": sig.capability,
        "flavor": sig.flavor,
        "model": sig.model,
    }
