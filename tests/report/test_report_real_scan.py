"""Report, bundle and match on the output of a real scan of a small simulated world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillguard.report import build_context, open_scan

pipeline = pytest.importorskip("distillguard.pipeline")
simulate = pytest.importorskip("distillguard.simulate")
KEY = "a shared partner key for tests"


@pytest.fixture(scope="module")
def real_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("world")
    mp = pytest.MonkeyPatch()
    mp.setenv("DISTILLGUARD_SHARE_KEY", KEY)
    try:
        simulate.simulate("quick", root / "world", scale=0.4, seed=7, split="train")
        result = pipeline.run_scan(
            [root / "world" / "exchanges.jsonl"], root / "scan", accounts=root / "world" / "accounts.jsonl"
        )
    finally:
        mp.undo()
    assert result.errors == []  # the report and the bundle stages did not fail
    return root / "scan"


def test_scan_writes_a_report_and_a_bundle_that_open(real_scan: Path) -> None:
    summary = json.loads((real_scan / "summary.json").read_text())
    assert summary.get("errors", []) == []
    page = (real_scan / "report.html").read_text()
    with open_scan(real_scan) as scan:
        context = build_context(scan)
    flagged = context["clusters"]
    assert len(flagged) == summary.get("flagged_clusters", len(flagged))
    for cluster in flagged:
        assert cluster["verdict"]["cluster_id"] in page and cluster["templates"]
    assert context["heavy"] and all(not d["verdict"]["flagged"] for d in context["heavy"])
    bundle = json.loads((real_scan / "indicators.stix.json").read_text())
    campaigns = [o for o in bundle["objects"] if o["type"] == "campaign"]
    assert len(campaigns) == len(flagged)


def test_own_bundle_matches_the_flagged_accounts(real_scan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from distillguard.share import match_bundle

    monkeypatch.setenv("DISTILLGUARD_SHARE_KEY", KEY)
    result = match_bundle(real_scan / "indicators.stix.json", real_scan)
    with open_scan(real_scan) as scan:
        pass  # the verdict tables stay readable after the connection closes
    flagged_clusters = set(scan.clusters.loc[scan.clusters["flagged"], "cluster_id"])
    accounts = scan.accounts
    members = set(
        accounts.loc[accounts["cluster_id"].isin(flagged_clusters) & accounts["flagged"], "account_id"]
    )
    matched = {a["account_id"] for a in result.accounts}
    assert members <= matched  # the pseudonymized list of flagged members alone guarantees this
    by_campaign = {c["cluster_id"]: c for c in result.clusters}
    assert flagged_clusters <= set(by_campaign)
