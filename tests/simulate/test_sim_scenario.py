"""Scenario validation: built-ins load, bad files fail with the file, line and field."""

from __future__ import annotations

import pytest

from distillguard.simulate import ScenarioError, builtin_scenarios, load_scenario, parse_scenario


def test_builtin_scenarios_load():
    names = builtin_scenarios()
    assert {"quick", "reference", "stealth"} <= set(names)
    for name in names:
        sc = load_scenario(name)
        assert sc.name == name
        assert sc.campaigns and sc.legit


def test_reference_has_the_four_report_campaigns():
    sc = load_scenario("reference")
    modes = {c.id: c for c in sc.campaigns}
    assert len(modes) == 4
    assert any(c.timing.mode == "lockstep" and c.payment.shared_share > 0.5 for c in sc.campaigns)
    assert any(c.reseller.customers_share > 0 and c.pivot.share > 0 for c in sc.campaigns)
    assert any(c.content.source == "forwarded" for c in sc.campaigns)
    assert any(c.timing.mode == "low_and_slow" and c.ip.strategy == "sticky_proxy" for c in sc.campaigns)


def test_bad_yaml_names_the_line():
    with pytest.raises(ScenarioError, match=r"<t>:2: not valid YAML: mapping values are not allowed"):
        parse_scenario("name: x\n  bad: indent\n", "<t>")


def test_unknown_field_names_line_and_path():
    text = "name: x\ncampaigns:\n  - id: a\n    accounts: 2\n    timing: {mode: flat, speed: 3}\n"
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "<t>")
    assert "<t>:5: campaigns.0.timing.speed: unknown field" in str(err.value)


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("    accounts: -1\n", "campaigns.0.accounts: Input should be greater than or equal to 1"),
        (
            "    accounts: 2\n    content: {cot: 1.5}\n",
            "campaigns.0.content.cot: Input should be less than or equal to 1",
        ),
        (
            "    accounts: 2\n    timing: {exchanges_per_account_per_day: [9, 3]}\n",
            "low 9.0 is above high 3.0",
        ),
        ("    accounts: 2\n    timing: {exchanges_per_account_per_day: -4}\n", "must not be negative"),
        ("    accounts: 2\n    timing: {mode: bursty}\n", "campaigns.0.timing.mode: Input should be"),
        ("    accounts: 2\n    flavors: {grpc: 1}\n", "unknown API flavour 'grpc'"),
        ("    accounts: 2\n    tiers: {platinum: 1}\n", "unknown tier 'platinum'"),
    ],
)
def test_invalid_values_are_explained(snippet, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace(".", r"\.")):
        parse_scenario("name: x\ncampaigns:\n  - id: a\n" + snippet, "<t>")


def test_unknown_archetype_and_duplicate_campaign():
    with pytest.raises(ScenarioError, match="unknown archetype 'gamer'"):
        parse_scenario("name: x\nlegit:\n  gamer: {accounts: 1}\n")
    with pytest.raises(ScenarioError, match="id 'a' is used twice"):
        parse_scenario("name: x\ncampaigns:\n  - {id: a, accounts: 1}\n  - {id: a, accounts: 2}\n")


def test_missing_and_unknown_scenarios(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="a YAML mapping"):
        parse_scenario("- 1\n- 2\n")


def test_world_start_must_be_a_time():
    with pytest.raises(ScenarioError, match=r"world\.start: start must be an RFC 3339 time"):
        parse_scenario("name: x\nworld: {start: yesterday}\n")
    sc = parse_scenario("name: x\nworld: {start: '2026-03-02T00:00:00Z', days: 1}\n")
    assert sc.world.start == "2026-03-02T00:00:00Z"
