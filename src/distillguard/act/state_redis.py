"""Redis state: several gateway replicas share accounts, template sketches and overrides.

One request costs one round trip: a Lua script folds the request into the account's hash (the
same arithmetic as `scoring.update_account`), adds the account to the skeleton's HyperLogLogs
and reads the override. Keys expire (accounts after `account_ttl_s` idle, sketches after their
window), so Redis memory stays bounded without a sweeper.

When Redis is unreachable the backend raises `StateUnavailable` at once and stops trying for a
short, growing back-off (up to `max_backoff_s`), so an outage adds no connection timeouts to
the requests it serves; the first successful call after the back-off logs the recovery.
Keys (prefix `dg:` by default): `dg:a:{account}` hash, `dg:o:{account}` override JSON,
`dg:t:{skeleton}:{bucket}` and `dg:l:{skeleton}:{slot}` HyperLogLogs. The script touches several
keys, so it needs a single Redis (or a cluster with hash tags on the prefix).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from distillguard.act.scoring import AccountState, RequestSignals, ScoringConfig
from distillguard.act.state import Override, Snapshot, StateUnavailable

log = logging.getLogger("distillguard.gateway")

_OBSERVE = """
local now, tau, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local harvest, thinking, skel, member = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]
local h = redis.call('HMGET', KEYS[1], 'f', 'l', 'n', 'r', 'h', 't', 'k', 'w')
local f, l = tonumber(h[1]), tonumber(h[2])
local n, r, hv, th, k, w = 0, 0, 0, 0, '', 0
if f == nil or l == nil or (now - l) > ttl then
  if f ~= nil then redis.call('DEL', KEYS[1]) end
  f, l = now, now
else
  n, r, hv, th = tonumber(h[3]) or 0, tonumber(h[4]) or 0, tonumber(h[5]) or 0, tonumber(h[6]) or 0
  k, w = h[7] or '', tonumber(h[8]) or 0
end
local dt = now - l
if dt < 0 then dt = 0 end
local d = math.exp(-dt / tau)
r = r * d + 1
hv = hv * d + harvest
th = th * d + thinking
w = w * d
if skel ~= '' then
  if skel == k then w = w + 1 elseif w <= 1 then k = skel; w = 1 else w = w - 1 end
end
n = n + 1
local rs, hs, ts, ws = string.format('%.6g', r), string.format('%.6g', hv), string.format('%.6g', th),
  string.format('%.6g', w)
redis.call('HSET', KEYS[1], 'f', string.format('%.3f', f), 'l', string.format('%.3f', now), 'n', n,
  'r', rs, 'h', hs, 't', ts, 'k', k, 'w', ws)
redis.call('EXPIRE', KEYS[1], ttl)
local fan, lock = 0, 0
if skel ~= '' then
  redis.call('PFADD', KEYS[3], member)
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[8]))
  fan = redis.call('PFCOUNT', KEYS[3], KEYS[4])
  redis.call('PFADD', KEYS[5], member)
  redis.call('EXPIRE', KEYS[5], tonumber(ARGV[9]))
  lock = redis.call('PFCOUNT', KEYS[5])
end
local o = redis.call('GET', KEYS[2])
local meta = redis.call('HMGET', KEYS[1], 'a', 'u', 'at', 'c')
return {string.format('%.3f', f), n, rs, hs, ts, k, ws, fan, lock, o or '',
  meta[1] or '', meta[2] or '', meta[3] or '0', meta[4] or '0'}
"""

_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'a', ARGV[1], 'u', ARGV[2], 'at', ARGV[3])
  redis.call('HINCRBY', KEYS[1], 'c', 1)
end
return 1
"""


class RedisState:
    """State in Redis, shared by every replica pointing at the same server and prefix."""

    name = "redis"

    def __init__(
        self,
        url: str,
        cfg: ScoringConfig,
        *,
        prefix: str = "dg:",
        timeout_s: float = 0.5,
        max_backoff_s: float = 5.0,
        metrics: Any = None,
    ) -> None:
        self.cfg = cfg
        self.prefix = prefix
        # A blocking pool: a burst waits briefly for a connection instead of failing open.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=256,
            timeout=timeout_s,
            decode_responses=True,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 1),  # one quick retry: a pooled connection may be stale
        )
        self.redis = Redis.from_pool(pool)
        self._observe = self.redis.register_script(_OBSERVE)
        self._record = self.redis.register_script(_RECORD)
        self.max_backoff_s = max_backoff_s
        self._backoff = 0.0
        self._down_until = 0.0
        self.down = False
        self.metrics = metrics

    # -- availability ------------------------------------------------------------------------
    def _check(self) -> None:
        if self.down and time.monotonic() < self._down_until:
            raise StateUnavailable("redis is down (backing off)")

    def _failed(self, exc: Exception) -> StateUnavailable:
        self._backoff = min(self.max_backoff_s, max(0.05, self._backoff * 2))
        self._down_until = time.monotonic() + self._backoff
        if not self.down:
            log.error("redis state unavailable (%s); serving without shared state", exc)
        self.down = True
        return StateUnavailable(str(exc))

    def _ok(self) -> None:
        if self.down:
            log.warning("redis state recovered")
        self.down, self._backoff = False, 0.0

    async def _call(self, coro_fn: Any, *args: Any, **kw: Any) -> Any:
        self._check()
        try:
            result = await coro_fn(*args, **kw)
        except (RedisError, OSError, TimeoutError) as exc:
            raise self._failed(exc) from exc
        self._ok()
        return result

    # -- the interface -----------------------------------------------------------------------
    def _akey(self, account_id: str) -> str:
        return f"{self.prefix}a:{account_id}"

    def _okey(self, account_id: str) -> str:
        return f"{self.prefix}o:{account_id}"

    async def observe(self, account_id: str, sig: RequestSignals, now: float) -> Snapshot:
        cfg = self.cfg
        skel = sig.skeleton or ""
        bucket, slot = int(now // cfg.template_window_s), int(now // cfg.lockstep_slot_s)
        p = self.prefix
        keys = [
            self._akey(account_id),
            self._okey(account_id),
            f"{p}t:{skel}:{bucket}",
            f"{p}t:{skel}:{bucket - 1}",
            f"{p}l:{skel}:{slot}",
        ]
        args = [
            f"{now:.3f}",
            cfg.rate_tau_s,
            cfg.account_ttl_s,
            1 if sig.cot_elicitation >= cfg.harvest_min_score else 0,
            1 if sig.thinking_requested else 0,
            skel,
            account_id,
            2 * cfg.template_window_s,
            2 * cfg.lockstep_slot_s,
        ]
        res = await self._call(self._observe, keys=keys, args=args)
        first, n, r, hv, th, k, w, fan, lock, ovr, a, u, at, c = res
        state = AccountState(
            first_seen=float(first),
            last_seen=now,
            requests=int(n),
            rate=float(r),
            harvest=float(hv),
            thinking=float(th),
            top_skeleton=k,
            top_weight=float(w),
            last_action=a,
            last_rule=u,
            last_action_at=float(at),
            actions=int(c),
        )
        return Snapshot(state, min(int(fan), cfg.template_cap), int(lock), _override(ovr))

    async def record_action(self, account_id: str, action: str, rule_id: str, now: float) -> None:
        await self._call(self._record, keys=[self._akey(account_id)], args=[action, rule_id, f"{now:.3f}"])

    async def get_account(self, account_id: str) -> AccountState | None:
        h = await self._call(self.redis.hgetall, self._akey(account_id))
        if not h:
            return None
        return AccountState(
            first_seen=float(h.get("f", 0)),
            last_seen=float(h.get("l", 0)),
            requests=int(h.get("n", 0)),
            rate=float(h.get("r", 0)),
            harvest=float(h.get("h", 0)),
            thinking=float(h.get("t", 0)),
            top_skeleton=h.get("k", ""),
            top_weight=float(h.get("w", 0)),
            last_action=h.get("a", ""),
            last_rule=h.get("u", ""),
            last_action_at=float(h.get("at", 0)),
            actions=int(h.get("c", 0)),
        )

    async def get_override(self, account_id: str) -> Override | None:
        return _override(await self._call(self.redis.get, self._okey(account_id)))

    async def set_override(self, account_id: str, override: Override) -> None:
        ttl = max(1, int(override.expires_at - time.time()))
        await self._call(self.redis.set, self._okey(account_id), orjson.dumps(override.to_dict()), ex=ttl)

    async def clear_override(self, account_id: str) -> bool:
        return bool(await self._call(self.redis.delete, self._okey(account_id)))

    async def memory_usage(self, account_id: str) -> int | None:
        """Bytes Redis uses for an account's hash (MEMORY USAGE), for the benchmark."""
        return await self._call(self.redis.memory_usage, self._akey(account_id))

    async def close(self) -> None:
        await self.redis.aclose()


def _override(raw: str | None) -> Override | None:
    if not raw:
        return None
    d = orjson.loads(raw)
    return Override(d["action"], d.get("reason", ""), float(d["expires_at"]), d.get("set_by", "admin"))
