"""The decision engine: one request in, one decision out, with every failure contained.

`Engine.decide` parses the body, resolves the account, scores the prompt, folds the request into
the online state, and applies the policy (or an operator's override). A detector error never
fails a request: it is counted and the request is allowed. A state-backend outage is counted and
the request is scored without state (fail-open, default) or refused with a 503 (fail-closed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from distillguard.act.exchange_log import ExchangeLog
from distillguard.act.identity import Identity, IdentityResolver
from distillguard.act.metrics import GatewayMetrics
from distillguard.act.policy import DENYING, Policy, Rule, evaluate, load_policy
from distillguard.act.scoring import AccountState, RequestSignals, bounded_text, features
from distillguard.act.state import MemoryState, StateBackend, StateUnavailable
from distillguard.act.verdicts import VerdictTable

log = logging.getLogger("distillguard.gateway")
OVERRIDE_RULE = "admin-override"


@dataclass(slots=True)
class Decision:
    """What to do with one request."""

    identity: Identity
    request: dict[str, Any] | None = None  # the parsed body (None when it did not parse)
    action: str = "allow"  # the action to carry out (always allow in dry-run)
    intended: str = "allow"  # what the policy decided, enforced or not
    rule_id: str | None = None
    matched: tuple[str, ...] = ()
    retry_after: int | None = None
    reason_code: str | None = None
    error: tuple[int, str] | None = None  # (status, message) when the gateway answers itself
    features: dict[str, Any] = field(default_factory=dict)


def _signal_functions() -> tuple[Any, Any]:
    """The ingest body parser and the prompt scorer, imported on first use."""
    from distillguard.ingest.parse_body import extract
    from distillguard.signals import score_prompt

    return extract, score_prompt


def _stateless(now: float) -> tuple[AccountState, int, int, None]:
    """What scoring sees when the state backend could not be used: a first request."""
    return AccountState(first_seen=now, last_seen=now, requests=1, rate=1.0), 0, 0, None


class Engine:
    """Scoring, state and policy for the gateway and the middleware."""

    def __init__(
        self,
        policy: Policy | None = None,
        state: StateBackend | None = None,
        *,
        identity: IdentityResolver | None = None,
        verdicts: VerdictTable | None = None,
        exchange_log: ExchangeLog | None = None,
        metrics: GatewayMetrics | None = None,
        detect: bool = True,
    ) -> None:
        self.policy = policy or load_policy()
        self.state = state or MemoryState(self.policy.scoring)
        self.identity = identity or IdentityResolver()
        self.verdicts = verdicts
        self.exchange_log = exchange_log
        self.metrics = metrics or GatewayMetrics()
        self.detect = detect
        self._funcs: tuple[Any, Any] | None = None
        self._tasks: set[asyncio.Task] = set()
        self._started = False
        self.state_up = True  # whether the last state call succeeded (for /healthz)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start background work (verdict reloads, log flushing); idempotent, needs a loop."""
        if self._started:
            return
        self._started = True
        if self.detect:
            try:  # import and warm the scorers now, not on the first request
                self.signals_of(
                    "openai_chat", {"model": "warm-up", "messages": [{"role": "user", "content": "hi"}]}
                )
            except Exception:
                self.metrics.detector_errors.inc()
                log.exception("request scoring is unavailable; requests will be forwarded unscored")
        if self.verdicts is not None:
            self.verdicts.reload_if_changed()
            self._spawn(self.verdicts.watch())
        if self.exchange_log is not None:
            self._spawn(self.exchange_log.run())

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.exchange_log is not None:
            self.exchange_log.close()
        await self.state.close()
        self._started = False

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the hot path ------------------------------------------------------------------------
    def signals_of(self, flavor: str, request: dict[str, Any]) -> RequestSignals:
        """Request signals from the body (ingest's parser and the signals fast path)."""
        if self._funcs is None:
            self._funcs = _signal_functions()
        extract, score_prompt = self._funcs
        ex = extract(request, None)
        limit = self.policy.scoring.max_prompt_chars
        system = ex.get("system_text")
        sc = score_prompt(
            bounded_text(ex.get("user_text") or "", limit),
            system and bounded_text(system, limit),
            tool_count=ex.get("tool_count") or 0,
            tool_result_count=ex.get("tool_result_count") or 0,
            image_count=ex.get("image_count") or 0,
        )
        return RequestSignals(
            skeleton=sc.get("skeleton_hash") or None,
            cot_elicitation=float(sc.get("cot_elicitation") or 0.0),
            rubric_grading=float(sc.get("rubric_grading") or 0.0),
            censorship_rewrite=float(sc.get("censorship_rewrite") or 0.0),
            capability=str(sc.get("capability") or "chat"),
            thinking_requested=bool(ex.get("thinking_requested")),
            flavor=flavor,  # the route is authoritative; a bare body can read as either
            model=str(ex.get("model") or ""),
        )

    async def decide(self, flavor: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Decision:
        """Decide one request. Never raises for bad input, detector or state failures."""
        ident = self.identity.resolve(headers)
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            self.metrics.rejected.labels("malformed_json").inc()
            return Decision(ident, error=(400, f"The request body is not valid JSON: {exc}"))
        if not isinstance(request, dict):
            self.metrics.rejected.labels("malformed_json").inc()
            return Decision(ident, error=(400, "The request body must be a JSON object."))
        decision = Decision(ident, request)
        if not self.detect:
            return decision
        try:
            sig = self.signals_of(flavor, request)
        except Exception:  # a detector bug must not fail a legitimate request
            self.metrics.detector_errors.inc()
            log.exception("scoring failed; request forwarded")
            return decision
        now = time.time()
        try:
            snap = await self.state.observe(ident.account_id, sig, now)
            account, fan, lock, override = (
                snap.account,
                snap.template_accounts,
                snap.lockstep_accounts,
                snap.override,
            )
            if not self.state_up:
                self.state_up = True
                self.metrics.state_up.set(1)
        except (TimeoutError, StateUnavailable, OSError) as exc:
            self.metrics.state_errors.labels(self.state.name).inc()
            self.state_up = False
            self.metrics.state_up.set(0)
            if self.policy.fail_mode == "closed":
                decision.error = (503, "The service is temporarily unable to verify this request.")
                log.warning("state backend unavailable (%s): refusing (fail-closed)", exc)
                return decision
            account, fan, lock, override = _stateless(now)
        except Exception:  # a bug in a state backend is a detector error: count it, serve
            self.metrics.detector_errors.inc()
            log.exception("state update failed; request scored without state")
            account, fan, lock, override = _stateless(now)
        try:
            verdict = self.verdicts.get(ident.account_id) if self.verdicts is not None else None
            feats = features(account, sig, fan, lock, verdict, now)
            decision.features = feats
            if override is not None:
                action, rule, matched = override.action, None, (OVERRIDE_RULE,)
            else:
                pd = evaluate(self.policy, feats)
                action, rule, matched = pd.action, pd.rule, pd.matched
        except Exception:
            self.metrics.detector_errors.inc()
            log.exception("policy evaluation failed; request forwarded")
            return decision
        self._apply(decision, action, rule, matched, now)
        return decision

    def _apply(
        self, decision: Decision, action: str, rule: Rule | None, matched: tuple[str, ...], now: float
    ) -> None:
        decision.intended, decision.matched = action, matched
        rule_id = rule.id if rule is not None else (OVERRIDE_RULE if matched == (OVERRIDE_RULE,) else None)
        decision.rule_id = rule_id
        if action == "allow":
            return
        enforced = not self.policy.dry_run and action != "shadow"
        self.metrics.actions.labels(rule_id or "", action, "true" if enforced else "false").inc()
        if enforced:
            decision.action = action
            if action == "throttle":
                decision.retry_after = rule.retry_after if rule is not None else 60
            elif action in DENYING:
                decision.reason_code = (
                    rule.reason_code
                    if rule is not None
                    else ("account_blocked" if action == "block" else "verification_required")
                )
        # Recording the action is a second write; keep it off the request's critical path.
        self._spawn(self._record(decision.identity.account_id, action, rule_id or "", now))

    async def _record(self, account_id: str, action: str, rule_id: str, now: float) -> None:
        try:
            await self.state.record_action(account_id, action, rule_id, now)
        except (TimeoutError, StateUnavailable, OSError):
            self.metrics.state_errors.labels(self.state.name).inc()
