"""Time to detection by prefix scans, on a small simulated world with one loud campaign."""

from __future__ import annotations

import pytest

from distillguard.evaluate import EvaluationError, measure_ttd
from distillguard.simulate import parse_scenario, simulate

WORLD = """
name: ttd
world: {days: 1, new_model_release_hour: 12}
legit:
  casual_chat: {accounts: 6}
  chat_product: {accounts: 1, exchanges_per_day: 200}
campaigns:
  - id: loud
    accounts: 6
    payment: {shared_share: 1.0, pool: 1}
    ip: {strategy: datacenter_block, blocks: 1}
    timing: {mode: lockstep, exchanges_per_account_per_day: 150, start_hour: 2}
    content: {source: template, tasks: {math: 1}, templates: 1, cot: 0.9}
"""


def test_prefix_scans_give_hours_from_first_exchange(tmp_path):
    pytest.importorskip("distillguard.pipeline")
    world = tmp_path / "world"
    simulate(parse_scenario(WORLD), world, seed=1001)
    rows, cutoffs = measure_ttd(world, [6.0, 24.0])
    assert [c["hours"] for c in cutoffs] == [6.0, 24.0]
    assert cutoffs[0]["exchanges"] < cutoffs[1]["exchanges"]
    (row,) = rows
    assert row["campaign_id"] == "loud" and row["first_exchange"].endswith("Z")
    # The campaign starts two hours into the world; a detection at a cutoff is measured from there.
    for key in ("hours_to_first_flag", "hours_to_half"):
        assert row[key] is None or row[key] in (pytest.approx(4.0, abs=0.1), pytest.approx(22.0, abs=0.1))
    if row["hours_to_first_flag"] is not None and row["hours_to_half"] is not None:
        assert row["hours_to_first_flag"] <= row["hours_to_half"]


def test_ttd_needs_a_simulated_world(tmp_path):
    with pytest.raises(EvaluationError, match="not a simulated world"):
        measure_ttd(tmp_path)
