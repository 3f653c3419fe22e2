"""Each account rule fires on a clear positive and stays quiet on the look-alike it could hit."""

import pytest
import toyworld

from distillguard import detect
from distillguard.detect.base import DetectionContext
from distillguard.detect.rules import AccountRule

# detector id -> (legitimate archetypes it must stay quiet on)
QUIET_ON = {
    "reasoning-harvest": ["chat-product", "router", "serverless", "ci-agent"],
    "shared-template": ["chat-product", "eval-runner-0", "ci-agent", "router"],
    "template-concentration": ["router", "chat-product", "serverless"],
    "capability-focus": ["router", "chat-product", "serverless"],
    "round-the-clock": ["chat-product", "eval-runner-0", "ci-agent", "serverless"],
    "machine-cadence": ["router", "chat-product", "serverless", "eval-runner-0"],
    "no-ramp": ["router", "chat-product", "eval-runner-0", "ci-agent"],
    "ip-rotation": ["chat-product", "router", "eval-runner-0", "campus"],
    "abused-tier": ["ci-agent", "chat-product", "router"],
    "maxed-budgets": ["router", "chat-product", "serverless"],
    "model-pivot": ["router", "chat-product", "ci-agent"],
    "reasoning-budget": ["router", "chat-product", "serverless", "ci-agent"],
    "shared-payment": ["chat-product", "router", "eval-runner-0", "ci-agent"],
    "fingerprint-rotation": ["chat-product", "router", "serverless", "ci-agent"],
    "shared-system-prompt": ["chat-product", "ci-agent", "eval-runner-0", "router"],
}


def _scores(findings, detector):
    return {f.subject_id: f.score for f in findings if f.detector == detector and f.subject_kind == "account"}


def test_every_account_rule_is_covered():
    account_rules = {i for i, cls in detect.registry().items() if issubclass(cls, AccountRule)}
    # pool-cadence and pool-harvest read the link stage's clusters: tests/detect/test_pool_*.py
    assert account_rules - {"pool-cadence", "pool-harvest"} == set(QUIET_ON)


@pytest.mark.parametrize("detector", sorted(QUIET_ON))
def test_fires_on_the_hydra_cluster(findings, detector):
    scores = _scores(findings, detector)
    assert all(scores.get(acc, 0) > 0.2 for acc in toyworld.HYDRA), scores


@pytest.mark.parametrize("detector", sorted(QUIET_ON))
def test_quiet_on_legitimate_look_alikes(findings, detector):
    scores = _scores(findings, detector)
    loud = {acc: scores[acc] for acc in QUIET_ON[detector] if acc in scores}
    assert not loud


def test_ordinary_users_trigger_nothing_but_context(findings):
    users = {f.subject_id for f in findings if f.subject_id.startswith("user-")}
    assert not users


def test_findings_carry_evidence(findings):
    assert findings
    for f in findings:
        assert 0.0 <= f.score <= 1.0
        assert f.explanation and f.explanation.endswith(".")
        assert f.evidence["thresholds"]
        assert f.evidence["top_templates"], f
        top = f.evidence["top_templates"][0]
        assert top["count"] > 0 and top["example_exchange_ids"]
        assert f.evidence["example_exchange_ids"]


def test_harvest_examples_are_harvest_exchanges(ctx, findings):
    f = next(f for f in findings if f.detector == "reasoning-harvest" and f.subject_id == "hydra-0")
    ids = f.evidence["example_exchange_ids"]
    got = ctx.con.execute(
        "SELECT MIN(cot_elicitation) FROM exchanges WHERE exchange_id IN (SELECT UNNEST(?))", [ids]
    ).fetchall()[0][0]
    assert got >= 0.5


def test_options_disable_and_override(ctx):
    cls = detect.registry()["reasoning-harvest"]
    off = DetectionContext(con=ctx.con, config={"reasoning-harvest": {"enabled": False}})
    assert cls().detect(off) == []
    strict = DetectionContext(con=ctx.con, config={"reasoning-harvest": {"min_exchanges": 10_000}})
    assert cls().detect(strict) == []
    bad = DetectionContext(con=ctx.con, config={"reasoning-harvest": {"share_low": 0.1}})
    with pytest.raises(ValueError, match="unknown option"):
        cls().detect(bad)


def test_rules_are_reviewable_data():
    for det_id, cls in detect.registry().items():
        if cls.subject_kind != "account":
            continue
        assert det_id == det_id.lower() and " " not in det_id
        assert cls.description and cls.false_positives and cls.evidence_fields


def test_docs_list_every_detector():
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "detection.md").read_text()
    missing = [det_id for det_id in detect.registry() if f"`{det_id}`" not in doc]
    assert not missing


def test_top_templates_are_looked_up_once_per_account(ctx):
    # The rules flag many of the same accounts: a context's cache answers for the accounts an
    # earlier detector looked up, with what a fresh lookup gives.
    from distillguard.detect.rules import top_templates

    accounts = [*toyworld.HYDRA, "chat-product", "no-such-account"]
    fresh = top_templates(ctx.con, accounts)
    cache: dict = {}
    assert top_templates(ctx.con, accounts[:2], cache=cache) == top_templates(ctx.con, accounts[:2])
    queried = []
    real = ctx.con

    class Recording:
        def __getattr__(self, name):
            return getattr(real, name)

        def execute(self, sql, *args):
            queried.append(sql)
            return real.execute(sql, *args)

    assert top_templates(Recording(), accounts, cache=cache) == fresh
    assert "no-such-account" not in fresh
    assert len(queried) == 2  # the template column's check and one lookup, for the new accounts
    queried.clear()
    assert top_templates(Recording(), accounts[1:3], cache=cache) == {a: fresh[a] for a in accounts[1:3]}
    assert queried == []
