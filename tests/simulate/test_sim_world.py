"""A simulated world: files, ground truth consistency, determinism, per-seed variation."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import orjson
import pyarrow.parquet as pq

from distillguard.simulate import build_world, simulate
from distillguard.simulate.scenario import LEGIT_ARCHETYPES

EXCHANGE_KEYS = {
    "id",
    "ts",
    "account_id",
    "api_key_id",
    "client_ip",
    "user_agent",
    "request",
    "response",
    "status",
    "latency_ms",
}
ACCOUNT_KEYS = {
    "account_id",
    "created_at",
    "org_id",
    "tier",
    "email_domain",
    "payment_fingerprint",
    "country",
    "verified",
}


def _lines(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_files_and_record_shapes(tiny_world):
    exchanges = _lines(tiny_world / "exchanges.jsonl")
    accounts = _lines(tiny_world / "accounts.jsonl")
    assert exchanges and accounts
    assert all(set(e) == EXCHANGE_KEYS for e in exchanges)
    assert all(set(a) == ACCOUNT_KEYS for a in accounts)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["ts"]) for e in exchanges)
    assert [e["ts"] for e in exchanges] == sorted(e["ts"] for e in exchanges)
    assert len({e["id"] for e in exchanges}) == len(exchanges)
    assert all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", e["client_ip"]) for e in exchanges)
    statuses = Counter(e["status"] for e in exchanges)
    assert statuses[200] > 0.9 * len(exchanges)
    assert {a["tier"] for a in accounts} <= {"standard", "education", "research", "startup", "enterprise"}
    manifest = orjson.loads((tiny_world / "manifest.json").read_bytes())
    assert manifest["exchanges"] == len(exchanges) and manifest["split"] == "eval"


def test_truth_is_consistent_with_the_log(tiny_world):
    exchanges = _lines(tiny_world / "exchanges.jsonl")
    truth = {t["account_id"]: t for t in _lines(tiny_world / "truth.jsonl")}
    accounts = {a["account_id"] for a in _lines(tiny_world / "accounts.jsonl")}
    assert set(truth) == accounts
    for t in truth.values():
        assert t["label"] in ("legit", "campaign")
        assert (t["label"] == "campaign") == (t["campaign_id"] is not None)
        if t["label"] == "legit":
            assert t["archetype"] in LEGIT_ARCHETYPES
    assert {t["archetype"] for t in truth.values() if t["label"] == "legit"} == set(LEGIT_ARCHETYPES)

    ex_truth = pq.read_table(tiny_world / "exchange_truth.parquet").to_pylist()
    assert [r["exchange_id"] for r in ex_truth] == [e["id"] for e in exchanges]
    per_account = defaultdict(set)
    for row, ex in zip(ex_truth, exchanges, strict=True):
        assert row["account_id"] == ex["account_id"]
        per_account[ex["account_id"]].add(row["campaign_id"])
        if row["campaign_id"] is not None:  # campaign traffic only ever comes from that campaign's accounts
            assert truth[ex["account_id"]]["campaign_id"] == row["campaign_id"]
    for aid, t in truth.items():
        if t["label"] == "legit":
            assert per_account[aid] <= {None}
    # The reseller pool's accounts carry both harvest and ordinary customers' requests.
    resale = [aid for aid, t in truth.items() if t["campaign_id"] == "resale"]
    assert resale and all(t["archetype"] == "reseller" for aid, t in truth.items() if aid in resale)
    assert any(per_account[a] == {None, "resale"} for a in resale)


def test_campaign_knobs_leave_their_marks(tiny_world):
    exchanges = _lines(tiny_world / "exchanges.jsonl")
    truth = {t["account_id"]: t for t in _lines(tiny_world / "truth.jsonl")}
    accounts = {a["account_id"]: a for a in _lines(tiny_world / "accounts.jsonl")}
    lock = [a for a, t in truth.items() if t["campaign_id"] == "lockstep"]
    assert len({accounts[a]["payment_fingerprint"] for a in lock}) == 1  # shared_share 1.0, pool 1
    manifest = orjson.loads((tiny_world / "manifest.json").read_bytes())
    lock_ex = [e for e in exchanges if e["account_id"] in lock]
    models = {e["request"]["model"] for e in lock_ex}
    assert manifest["new_model"] in models  # the pivot
    text = " ".join(str(e["request"]) for e in lock_ex)
    assert "step by step" in text.lower() or "reasoning" in text.lower()
    harvest_ids = {
        r["exchange_id"]
        for r in pq.read_table(tiny_world / "exchange_truth.parquet").to_pylist()
        if r["campaign_id"] == "resale"
    }
    resale_ex = [e for e in exchanges if e["id"] in harvest_ids]
    # A residential address per request: (nearly) every request from a new address.
    assert len({e["client_ip"] for e in resale_ex}) > 0.9 * len(resale_ex)


def test_same_seed_same_bytes_other_seed_other_world(tmp_path, tiny_scenario):
    a = simulate(tiny_scenario, tmp_path / "a", seed=1234)
    b = simulate(tiny_scenario, tmp_path / "b", seed=1234)
    c = simulate(tiny_scenario, tmp_path / "c", seed=1235)
    for name in ("exchanges.jsonl", "accounts.jsonl", "truth.jsonl", "exchange_truth.parquet"):
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    assert (a.out_dir / "exchanges.jsonl").read_bytes() != (c.out_dir / "exchanges.jsonl").read_bytes()


def test_constants_vary_with_the_seed(tiny_scenario):
    looks = set()
    for seed in range(1000, 1008):
        w = build_world(tiny_scenario, seed=seed, scale=0.3)
        shape = re.sub(r"[0-9a-f]", "h", w.accounts[0].account_id)[:6]
        looks.add((shape, w.style.models[1], w.style.cloud_prefixes[0], w.style.sdk_agents[0], w.start))
    assert len({x[0] for x in looks}) > 1  # account id format
    assert len({x[1] for x in looks}) > 1  # model catalogue
    assert len({x[2] for x in looks}) > 1  # address ranges
    assert len({x[3] for x in looks}) > 1  # client versions
    assert len({x[4] for x in looks}) > 1  # calendar


def test_scale_multiplies_accounts(tiny_scenario):
    small = build_world(tiny_scenario, seed=1000, scale=1.0)
    large = build_world(tiny_scenario, seed=1000, scale=3.0)
    assert len(large.accounts) > 2.5 * len(small.accounts)


def test_failed_calls_are_retried_with_the_same_body(tiny_world):
    exchanges = _lines(tiny_world / "exchanges.jsonl")
    failed = [e for e in exchanges if e["status"] != 200]
    assert failed  # pools hit rate limits
    later = defaultdict(list)
    for e in exchanges:
        later[(e["account_id"], orjson.dumps(e["request"]))].append(e["ts"])
    end = datetime.fromisoformat(orjson.loads((tiny_world / "manifest.json").read_bytes())["end"])
    for e in failed:
        times = later[(e["account_id"], orjson.dumps(e["request"]))]
        near_end = datetime.fromisoformat(e["ts"]) + timedelta(seconds=8) >= end  # retry fell outside
        assert any(t > e["ts"] for t in times) or near_end


def test_builtin_scenarios_build():
    from distillguard.simulate import builtin_scenarios, load_scenario

    for name in builtin_scenarios():
        sc = load_scenario(name)
        w = build_world(sc, seed=1000, scale=0.05)
        ts, _account, _body, _ip, _agent, _key, campaign = w.activity()
        assert len(ts) > 1000, name
        for i, c in enumerate(sc.campaigns):  # every campaign sends harvest traffic
            assert (campaign == i).sum() > 0, (name, c.id)
        assert {a.archetype for a in w.accounts if a.label == "legit"} == set(sc.legit), name
