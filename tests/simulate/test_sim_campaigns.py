"""Each campaign knob shapes the traffic the way its documentation says (checked on the arrays)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from distillguard.simulate import build_world, parse_scenario
from distillguard.simulate.timing import DAY, HOUR, US

KNOBS = """
name: knobs
world: {days: 2, new_model_release_hour: 10}
campaigns:
  - id: lock
    accounts: 8
    timing: {mode: lockstep, exchanges_per_account_per_day: 96, jitter_s: 0.1}
    pivot: {share: 0.5, within_hours: 2}
  - id: slow
    accounts: 10
    ip: {strategy: sticky_proxy, exits: 6, sticky_minutes: 60}
    timing: {mode: low_and_slow, exchanges_per_account_per_day: 30, active_hours: 6}
  - id: camo
    accounts: 4
    timing: {mode: flat, exchanges_per_account_per_day: 200}
    content: {source: template, tasks: {math: 1}, templates: 1, cot: 1.0, camouflage: 0.5}
  - id: pool
    accounts: 6
    ip: {strategy: residential_per_request}
    timing: {mode: flat, exchanges_per_account_per_day: 200}
    reseller: {customers_share: 0.6}
"""


@pytest.fixture(scope="module")
def world():
    return build_world(parse_scenario(KNOBS), seed=1001)


def _by_campaign(world, cid):
    ts, account, body, ip, _agent, _key, campaign = world.activity()
    idx = world.campaigns.index(cid)
    members = {i for i, a in enumerate(world.accounts) if a.campaign_id == cid}
    mask = np.isin(account, list(members))
    return ts[mask], account[mask], body[mask], ip[mask], campaign[mask], idx


def test_lockstep_is_a_round_robin(world):
    ts, account, *_ = _by_campaign(world, "lock")
    order = account[np.argsort(ts)]
    # One dispatcher: the accounts in the pool take turns in a fixed cycle (a few join late).
    k = len(set(order[:40].tolist()))
    assert k >= 5
    assert (order[k : 3 * k] == order[: 2 * k]).all()
    gaps = []
    for i in np.unique(account):
        gaps.extend(np.diff(np.sort(ts[account == i])) / US)
    # 96 a day each: one request every 900 s per account, give or take the jitter and churn.
    assert np.median(gaps) == pytest.approx(900, rel=0.01)


def test_pivot_moves_half_the_traffic_after_release(world):
    ts, _account, body, *_ = _by_campaign(world, "lock")
    models = np.array([orjson.loads(world.bodies.request[b])["model"] for b in body])
    after = ts >= world.release + 2 * HOUR
    assert not (models[~after] == world.style.new_model).any()
    share = (models[after] == world.style.new_model).mean()
    assert 0.4 < share < 0.6


def test_low_and_slow_stays_low_and_inside_its_hours(world):
    ts, account, _body, ip, *_ = _by_campaign(world, "slow")
    for i in np.unique(account):
        t = ts[account == i]
        assert len(t) / 2 < 60  # about 30 a day each, never a burst of hundreds
        hours = np.unique(((t % DAY) // HOUR).astype(int))
        assert len(hours) <= 8  # a 6-hour window (shifted per account), not round the clock
    # Sticky exits are shared across the pool: some address serves several accounts.
    owners = {}
    for a, address in zip(account.tolist(), ip.tolist(), strict=True):
        owners.setdefault(address, set()).add(a)
    assert len(owners) <= 6 and max(len(v) for v in owners.values()) >= 2


def test_reseller_mixes_customers_into_pool_accounts(world):
    _ts, account, _body, ip, campaign, idx = _by_campaign(world, "pool")
    harvest = campaign == idx
    assert 0.5 < (~harvest).mean() < 0.7  # customers_share 0.6
    for i in np.unique(account):
        assert harvest[account == i].any() and (~harvest[account == i]).any()
    assert len(np.unique(ip[harvest])) > 0.95 * harvest.sum()  # an address per request


def test_camouflage_dilutes_the_harvest(world):
    _ts, _account, body, _ip, campaign, idx = _by_campaign(world, "camo")
    assert (campaign == idx).all()  # camouflage is the operator's own traffic: still the campaign's
    texts = [orjson.loads(world.bodies.request[b]) for b in body]
    markers = ("multiplied by", "How m", "How far", "What area")
    math = [any(m in str(t) for m in markers) for t in texts]
    assert 0.4 < np.mean(math) < 0.6  # half harvest (math slots), half ordinary requests
