"""Policy files: validation with file:line and rule id, evaluation order and strength."""

from __future__ import annotations

import pytest

from distillguard.act.policy import (
    DEFAULT_POLICY,
    PolicyError,
    evaluate,
    load_policy,
    parse_clause,
)
from distillguard.act.scoring import FEATURES

BASE = """version: 1
rules:
  - id: ok-rule
    title: t
    description: d
    level: low
    falsepositives: [none]
    condition: {all: ["template_accounts >= 3"]}
    action: shadow
"""


def feats(**kw) -> dict:
    base = {name: (False if kind is bool else "" if kind is str else 0.0) for name, kind in FEATURES.items()}
    base.update(kw)
    return base


def test_default_policy_loads_and_documents_false_positives():
    policy = load_policy()
    assert policy.mode == "enforce" and policy.fail_mode == "open"
    assert all(rule.falsepositives and rule.description for rule in policy.rules)
    assert len({rule.id for rule in policy.rules}) == len(policy.rules)


@pytest.mark.parametrize(
    ("rule_patch", "message"),
    [
        ('condition: {all: ["templat_accounts >= 3"]}', "unknown feature 'templat_accounts'"),
        ('condition: {all: ["scan_flagged >= 1"]}', "scan_flagged is a bool"),
        ('condition: {all: ["capability in chat"]}', "needs a list"),
        ("action: nuke", "action"),
        ("falsepositives: []", "falsepositives"),
    ],
)
def test_invalid_rules_point_to_file_line_and_rule(tmp_path, rule_patch, message):
    key = rule_patch.split(":")[0]
    lines = [ln for ln in BASE.splitlines() if not ln.strip().startswith(key + ":")]
    text = "\n".join(lines) + "\n    " + rule_patch + "\n"
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert f"{path}:3 (rule ok-rule)" in str(err.value)
    assert message in str(err.value)


def test_duplicate_ids_and_unknown_top_level_keys_are_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(BASE + BASE.split("rules:\n")[1])
    with pytest.raises(PolicyError, match="appears twice"):
        load_policy(path)
    path.write_text("mode: enforce\nrulez: []\nrules: []\n")
    with pytest.raises(PolicyError, match="rulez"):
        load_policy(path)


def test_strongest_action_wins_and_allow_rules_exempt():
    policy = load_policy()
    harvest = feats(cot_elicitation=0.9, template_accounts=30.0, harvest_share=0.9, requests_total=5.0)
    d = evaluate(policy, harvest)
    assert d.action == "throttle" and d.rule.id == "harvest-burst"
    assert d.matched[:2] == ("cot-harvest-fanout", "harvest-burst")
    assert evaluate(policy, feats(cot_elicitation=0.9, template_accounts=13.0)).action == "withhold_reasoning"
    assert evaluate(policy, feats(template_accounts=500.0)).action == "allow"  # many accounts, no harvest
    exempt = policy.model_copy(deep=True)
    exempt.rules[0].enabled = True  # the shipped exemption, for one model
    d = evaluate(exempt, harvest | {"model": "example-model-under-evaluation"})
    assert d.action == "allow" and d.rule.id == "exempt-eval-partners"


def test_clause_parsing():
    c = parse_clause("capability in [coding, tool_use]")
    assert c.holds(feats(capability="coding")) and not c.holds(feats(capability="chat"))
    assert parse_clause("scan_flagged == true").holds(feats(scan_flagged=True))
    with pytest.raises(ValueError, match="cannot read"):
        parse_clause("template_accounts")
    assert DEFAULT_POLICY.exists()


def test_gateway_command_refuses_an_invalid_policy(tmp_path):
    from typer.testing import CliRunner

    from distillguard.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("template_accounts >= 3", "template_accounts >= many"))
    result = CliRunner().invoke(app, ["gateway", "--upstream", "http://127.0.0.1:9", "--policy", str(bad)])
    assert result.exit_code == 2
    assert "rule ok-rule" in result.output and "template_accounts is a float" in result.output
