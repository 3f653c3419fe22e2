"""Identity hashing and the bounded in-memory state."""

from __future__ import annotations

import pickle
import time

from distillguard.act.identity import IdentityResolver
from distillguard.act.scoring import RequestSignals, ScoringConfig, features
from distillguard.act.state import MemoryState


def sig(skeleton: str | None = "s", cot: float = 0.0) -> RequestSignals:
    return RequestSignals(skeleton, cot, 0.0, 0.0, "chat", False, "openai_chat", "m")


def test_identity_is_a_keyed_hash_or_the_configured_header():
    r = IdentityResolver(key=b"k1")
    a = r.resolve([(b"x-api-key", b"sk-secret-1")])
    b = r.resolve([(b"authorization", b"Bearer sk-secret-1")])
    assert a.account_id == b.account_id == a.api_key_id and "sk-secret" not in a.account_id
    assert IdentityResolver(key=b"k2").resolve([(b"x-api-key", b"sk-secret-1")]).account_id != a.account_id
    h = IdentityResolver("X-Account-Id", key=b"k1").resolve(
        [(b"authorization", b"Bearer sk-secret-1"), (b"x-account-id", b"org-42")]
    )
    assert h.account_id == "org-42" and h.api_key_id == a.api_key_id
    assert r.resolve([]).account_id == "anonymous"


async def test_decayed_counters_and_template_fanout():
    cfg = ScoringConfig(rate_tau_s=60)
    state = MemoryState(cfg)
    now = time.time()
    for i in range(10):
        snap = await state.observe("a", sig(cot=0.9 if i < 5 else 0.0), now)
    f = features(snap.account, sig(), snap.template_accounts, snap.lockstep_accounts, None, now)
    assert f["recent_requests"] == 10 and f["harvest_share"] == 0.5 and f["template_share"] == 1.0
    later = await state.observe("a", sig(), now + 60)  # one time constant later
    assert abs(later.account.rate - (10 / 2.718281828 + 1)) < 1e-6
    for i in range(20):
        snap = await state.observe(f"acct-{i}", sig("shared"), now + 61)
    assert snap.template_accounts == 20 and snap.lockstep_accounts == 20
    snap = await state.observe("late", sig("shared"), now + 61 + cfg.template_window_s)  # next bucket
    assert snap.template_accounts == 21  # previous bucket still counts
    snap = await state.observe("later", sig("shared"), now + 61 + 3 * cfg.template_window_s)
    assert snap.template_accounts == 1  # both buckets expired


async def test_memory_state_is_bounded_and_small():
    cfg = ScoringConfig(max_accounts=1000, max_templates=50)
    state = MemoryState(cfg)
    now = time.time()
    for i in range(5000):
        await state.observe(f"key_{i:024x}", sig(f"skel-{i}", cot=0.9), now)
    assert len(state) == 1000 and state.evicted_accounts == 4000
    assert len(state._templates) == 50
    one = next(iter(state._accounts.values()))
    assert len(pickle.dumps(one)) < 2048
