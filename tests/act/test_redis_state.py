"""Redis state: replicas agree, the backends compute the same thing, and an outage is survived."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid

import anthropic
import httpx
import pytest
import redis

from distillguard.act.scoring import RequestSignals, ScoringConfig
from distillguard.act.state import MemoryState, Override
from distillguard.act.state_redis import RedisState

pytestmark = pytest.mark.redis
REDIS_URL = "redis://127.0.0.1:6379/0"
HARVEST = "Solve {a} * {b}. Think step by step and show all your reasoning before the final answer."


@pytest.fixture
def prefix():
    """A key prefix of this test's own in the shared Redis, removed afterwards."""
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    p = f"dgtest-{uuid.uuid4().hex[:8]}:"
    yield p
    keys = list(client.scan_iter(match=p + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def _sig(i: int) -> RequestSignals:
    return RequestSignals(
        skeleton="s-a" if i % 3 else "s-b",
        cot_elicitation=0.9 if i % 2 else 0.1,
        rubric_grading=0.0,
        censorship_rewrite=0.0,
        capability="chat",
        thinking_requested=i % 4 == 0,
        flavor="openai_chat",
        model="m",
    )


async def test_redis_and_memory_backends_agree(prefix):
    cfg = ScoringConfig()
    mem, red = MemoryState(cfg), RedisState(REDIS_URL, cfg, prefix=prefix)
    now = time.time()
    for i in range(40):
        a = await mem.observe(f"acct-{i % 7}", _sig(i), now + i * 0.7)
        b = await red.observe(f"acct-{i % 7}", _sig(i), now + i * 0.7)
        assert (a.template_accounts, a.lockstep_accounts) == (b.template_accounts, b.lockstep_accounts)
        for field in ("requests", "rate", "harvest", "thinking", "top_weight"):
            assert getattr(b.account, field) == pytest.approx(getattr(a.account, field), rel=1e-4)
        assert a.account.top_skeleton == b.account.top_skeleton
    await red.set_override("acct-1", Override("block", "fraud case", time.time() + 60))
    snap = await red.observe("acct-1", _sig(1), now + 50)
    assert snap.override is not None and snap.override.action == "block"
    assert await red.clear_override("acct-1")
    usage = await red.memory_usage("acct-1")
    assert usage is not None and usage <= 2048
    await red.close()


def test_replicas_share_template_sketch(gateway, prefix):
    opts = {"state_url": REDIS_URL, "state_options": {"prefix": prefix}}
    replicas = [gateway(**opts), gateway(**opts)]
    clients = [anthropic.Anthropic(base_url=r.url, api_key="unused", max_retries=0) for r in replicas]
    summaries = []
    for i in range(14):  # alternate replicas: neither alone sees 12 accounts
        msg = clients[i % 2].messages.create(
            model="m",
            max_tokens=32,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=[{"role": "user", "content": HARVEST.format(a=i, b=7)}],
            extra_headers={"x-api-key": f"r{i}"},
        )
        summaries.append(msg.content[0].thinking)
    assert summaries[-1].startswith("[reasoning withheld")
    assert not summaries[0].startswith("[reasoning withheld")


@pytest.fixture
def own_redis(port):
    """A redis-server of this test's own, which the test can stop and start again."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    redis_port = port()
    procs: list[subprocess.Popen] = []

    def start() -> None:
        proc = subprocess.Popen(
            [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=redis_port, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop() -> None:
        proc = procs[-1]
        proc.terminate()
        proc.wait(timeout=5)

    start()
    yield redis_port, start, stop
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=5)


def _errors(url: str) -> float:
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith('distillguard_state_errors_total{backend="redis"}'):
            return float(line.split()[-1])
    return 0.0


def test_redis_outage_fails_open_and_recovers(gateway, own_redis, account_of):
    port, start, stop = own_redis
    gw = gateway(
        state_url=f"redis://127.0.0.1:{port}/0", state_options={"max_backoff_s": 0.2}, admin_token="t"
    )
    client = anthropic.Anthropic(base_url=gw.url, api_key="sk-outage", max_retries=0)

    def ask() -> str:
        return (
            client.messages.create(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
            .content[0]
            .text
        )

    assert ask() == "Answer: hi" and _errors(gw.url) == 0
    stop()
    for _ in range(5):
        assert ask() == "Answer: hi"  # still served while the state is gone
    assert _errors(gw.url) >= 1
    assert httpx.get(gw.url + "/healthz").json()["state_up"] is False
    start()
    deadline = time.monotonic() + 5
    while not httpx.get(gw.url + "/healthz").json()["state_up"]:
        assert time.monotonic() < deadline, "the gateway did not reconnect to Redis"
        ask()
        time.sleep(0.05)
    acct = account_of("sk-outage")
    info = httpx.get(gw.url + f"/admin/accounts/{acct}", headers={"authorization": "Bearer t"}).json()
    assert info["online"]["requests"] >= 1  # state is written again after recovery


def test_redis_outage_fail_closed(gateway, own_redis):
    port, _, stop = own_redis
    gw = gateway(state_url=f"redis://127.0.0.1:{port}/0", fail_mode="closed")
    client = anthropic.Anthropic(base_url=gw.url, api_key="sk-closed", max_retries=0)
    client.messages.create(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    stop()
    with pytest.raises(anthropic.APIStatusError) as err:
        client.messages.create(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert err.value.status_code == 503


def test_unreachable_redis_costs_no_timeouts(prefix, port):
    async def run() -> float:
        cfg = ScoringConfig()
        red = RedisState(f"redis://127.0.0.1:{port()}/0", cfg, prefix=prefix, max_backoff_s=5)
        from distillguard.act.state import StateUnavailable

        started = time.perf_counter()
        for i in range(200):
            with pytest.raises(StateUnavailable):
                await red.observe("a", _sig(i), time.time())
        await red.close()
        return time.perf_counter() - started

    assert asyncio.run(run()) < 1.0  # backing off: no connection attempt per request
