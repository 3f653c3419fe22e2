"""Online state behind one interface: in-process memory (default) or Redis (shared by replicas).

`observe` is the one call on the hot path: it folds a request into its account's state and the
cross-account template sketch, and returns what scoring needs, in one step (one round trip for
Redis). Both backends are bounded: the memory backend evicts the least recently seen accounts
and skeletons past their caps; Redis keys carry TTLs.

The template sketch counts, per skeleton, the distinct accounts seen in the current and the
previous `template_window_s` bucket (so the window is between one and two buckets long), and in
the current `lockstep_slot_s` slot. In memory that is two capped sets of account hashes with an
incrementally kept union size; in Redis it is HyperLogLogs (PFADD / PFCOUNT over two keys).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from distillguard.act.scoring import AccountState, RequestSignals, ScoringConfig, update_account


@dataclass(frozen=True, slots=True)
class Override:
    """An operator's decision about an account, set through the admin API."""

    action: str  # one of policy.ACTIONS
    reason: str
    expires_at: float  # epoch seconds
    set_by: str = "admin"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "reason": self.reason,
            "expires_at": self.expires_at,
            "set_by": self.set_by,
        }


@dataclass(slots=True)
class Snapshot:
    """What scoring needs after a request has been folded into the state."""

    account: AccountState
    template_accounts: int
    lockstep_accounts: int
    override: Override | None


class StateUnavailable(RuntimeError):
    """The backend cannot be reached; the caller fails open or closed per policy."""


class StateBackend(Protocol):
    name: str

    async def observe(self, account_id: str, sig: RequestSignals, now: float) -> Snapshot: ...
    async def record_action(self, account_id: str, action: str, rule_id: str, now: float) -> None: ...
    async def get_account(self, account_id: str) -> AccountState | None: ...
    async def get_override(self, account_id: str) -> Override | None: ...
    async def set_override(self, account_id: str, override: Override) -> None: ...
    async def clear_override(self, account_id: str) -> bool: ...
    async def close(self) -> None: ...


class _TemplateSketch:
    """Distinct accounts per skeleton: current and previous bucket, and the lockstep slot."""

    __slots__ = ("bucket", "cur", "prev", "slot", "slot_set", "union")

    def __init__(self, bucket: int, slot: int) -> None:
        self.bucket = bucket
        self.cur: set[int] = set()
        self.prev: set[int] = set()
        self.union = 0  # len(cur | prev), kept incrementally so observe stays O(1)
        self.slot = slot
        self.slot_set: set[int] = set()

    def add(self, member: int, bucket: int, slot: int, cap: int) -> tuple[int, int]:
        if bucket != self.bucket:
            self.prev = self.cur if bucket == self.bucket + 1 else set()
            self.cur = set()
            self.union = len(self.prev)
            self.bucket = bucket
        if member not in self.cur and len(self.cur) < cap:
            self.cur.add(member)
            if member not in self.prev:
                self.union += 1
        if slot != self.slot:
            self.slot, self.slot_set = slot, set()
        if len(self.slot_set) < cap:
            self.slot_set.add(member)
        return min(self.union, cap), len(self.slot_set)


class MemoryState:
    """In-process state; one gateway process only. Bounded by `max_accounts` / `max_templates`."""

    name = "memory"

    def __init__(self, cfg: ScoringConfig) -> None:
        self.cfg = cfg
        self._accounts: OrderedDict[str, AccountState] = OrderedDict()
        self._templates: OrderedDict[str, _TemplateSketch] = OrderedDict()
        self._overrides: dict[str, Override] = {}
        self.evicted_accounts = 0

    def __len__(self) -> int:
        return len(self._accounts)

    async def observe(self, account_id: str, sig: RequestSignals, now: float) -> Snapshot:
        return self.observe_sync(account_id, sig, now)

    def observe_sync(self, account_id: str, sig: RequestSignals, now: float) -> Snapshot:
        cfg = self.cfg
        accounts = self._accounts
        state = accounts.get(account_id)
        if state is None:
            if len(accounts) >= cfg.max_accounts:
                accounts.popitem(last=False)
                self.evicted_accounts += 1
            state = accounts[account_id] = update_account(None, sig, now, cfg)
        else:
            accounts.move_to_end(account_id)
            update_account(state, sig, now, cfg)
        fan = lock = 0
        if sig.skeleton is not None:
            bucket, slot = int(now // cfg.template_window_s), int(now // cfg.lockstep_slot_s)
            sketch = self._templates.get(sig.skeleton)
            if sketch is None:
                if len(self._templates) >= cfg.max_templates:
                    self._templates.popitem(last=False)
                sketch = self._templates[sig.skeleton] = _TemplateSketch(bucket, slot)
            else:
                self._templates.move_to_end(sig.skeleton)
            fan, lock = sketch.add(hash(account_id), bucket, slot, cfg.template_cap)
        override = self._overrides.get(account_id) if self._overrides else None
        if override is not None and override.expires_at <= now:
            del self._overrides[account_id]
            override = None
        return Snapshot(state, fan, lock, override)

    async def record_action(self, account_id: str, action: str, rule_id: str, now: float) -> None:
        state = self._accounts.get(account_id)
        if state is not None:
            state.last_action, state.last_rule, state.last_action_at = action, rule_id, now
            state.actions += 1

    async def get_account(self, account_id: str) -> AccountState | None:
        state = self._accounts.get(account_id)
        if state is not None and time.time() - state.last_seen > self.cfg.account_ttl_s:
            return None
        return state

    async def get_override(self, account_id: str) -> Override | None:
        override = self._overrides.get(account_id)
        if override is not None and override.expires_at <= time.time():
            self._overrides.pop(account_id, None)
            return None
        return override

    async def set_override(self, account_id: str, override: Override) -> None:
        self._overrides[account_id] = override

    async def clear_override(self, account_id: str) -> bool:
        return self._overrides.pop(account_id, None) is not None

    async def close(self) -> None:
        return None


def open_state(url: str | None, cfg: ScoringConfig, **options: Any) -> StateBackend:
    """`memory://` (default) or `redis://host:port/db` (see `state_redis.RedisState`)."""
    if not url or url.startswith("memory:"):
        return MemoryState(cfg)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from distillguard.act.state_redis import RedisState

        return RedisState(url, cfg, **options)
    raise ValueError(f"unknown state URL {url!r}: use memory:// or redis://host:port/db")
