"""Matching a received bundle: which local accounts and clusters share its indicators, and clear
errors for malformed or foreign bundles."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import stix2
from typer.testing import CliRunner

from distillguard.cli import app
from distillguard.share import BundleError, match_bundle, write_bundle

HYDRA = {f"hydra-{i:02d}" for i in range(1, 7)}
TOOLERS = {"tool-01", "tool-02", 'tool-03"><svg onload=window.__pwned=3>'}


@pytest.fixture
def own_bundle(scan_dir: Path, tmp_path: Path, keyed: str) -> Path:
    return write_bundle(scan_dir, {"provider_name": "Partner AI"}, out=tmp_path / "partner.json")


def _foreign(tmp_path: Path, *patterns: str, confidence: int = 70) -> Path:
    """A bundle as another provider's tool would write it: plain STIX, no distillguard extension."""
    ident = stix2.Identity(name="Other Lab", identity_class="organization")
    camp = stix2.Campaign(name="Harvest wave 7", created_by_ref=ident.id)
    objs: list = [ident, camp]
    for p in patterns:
        ind = stix2.Indicator(
            pattern=p,
            pattern_type="stix",
            valid_from="2026-03-01T00:00:00Z",
            confidence=confidence,
            created_by_ref=ident.id,
        )
        objs += [ind, stix2.Relationship(ind, "indicates", camp)]
    path = tmp_path / "foreign.json"
    path.write_text(stix2.Bundle(*objs).serialize())
    return path


def test_own_bundle_matches_every_flagged_account_and_nothing_else(
    own_bundle: Path, scan_dir: Path, keyed: str
) -> None:
    result = match_bundle(own_bundle, scan_dir)
    assert result.provider == "Partner AI" and result.notes == []
    matched = {a["account_id"] for a in result.accounts}
    assert matched == HYDRA | TOOLERS
    hydra = next(a for a in result.accounts if a["account_id"] == "hydra-01")
    assert set(hydra["kinds"]) == {"account", "email_domain", "ip", "payment", "template"}
    assert hydra["campaigns"] == ["Distillation cluster C-001"] and hydra["flagged"]
    assert [(c["cluster_id"], c["matched_accounts"], c["accounts"]) for c in result.clusters] == [
        ("C-001", 6, 6),
        ("C-002", 3, 3),
    ]


def test_ip_ranges_match_by_subset(tmp_path: Path, scan_dir: Path, keyed: str) -> None:
    bundle = _foreign(
        tmp_path, "[ipv4-addr:value ISSUBSET '192.0.2.0/28']", "[ipv4-addr:value = '198.51.100.2']"
    )
    result = match_bundle(bundle, scan_dir)
    counts = {a["account_id"]: a["matching_exchanges"] for a in result.accounts}
    assert counts == {"ci-agent-acme": 400, "tool-02": 40}  # 192.0.2.77 and .200 are outside the /28
    assert result.accounts[0]["campaigns"] == ["Harvest wave 7"] and result.provider == "Other Lab"


def test_user_agent_and_template_match_exactly_or_by_like(tmp_path: Path, scan_dir: Path, keyed: str) -> None:
    bundle = _foreign(
        tmp_path,
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' LIKE 'acme-ci/%']",
        "[x-distillguard-template:skeleton_hash = 'sk-eval-1']",
    )
    matched = {a["account_id"] for a in match_bundle(bundle, scan_dir).accounts}
    assert {"ci-agent-acme", "evalsuite-lab"} <= matched


def test_pseudonyms_need_the_same_key(
    own_bundle: Path, scan_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISTILLGUARD_SHARE_KEY", "a different partner key!")
    result = match_bundle(own_bundle, scan_dir)
    assert any("different key" in n for n in result.notes)
    kinds = {k for a in result.accounts for k in a["kinds"]}
    assert kinds == {"ip", "template", "user_agent"}  # infrastructure and behaviour still match
    monkeypatch.delenv("DISTILLGUARD_SHARE_KEY")
    assert any("pseudonymized indicators skipped" in n for n in match_bundle(own_bundle, scan_dir).notes)


def test_unreadable_comparisons_are_counted_not_fatal(tmp_path: Path, scan_dir: Path, keyed: str) -> None:
    bundle = _foreign(
        tmp_path,
        "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    )
    result = match_bundle(bundle, scan_dir)
    assert result.accounts == [] and any("1 comparison" in n for n in result.notes)


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps(data))
    return path


def _indicator(**changes: object) -> dict:
    ind = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '203.0.113.1']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00Z",
    }
    ind.update(changes)
    return {k: v for k, v in ind.items() if v is not None}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "top-level 'type' is 'list'"),
        ({"type": "report"}, "top-level 'type' is 'report'"),
        (
            {"type": "bundle", "id": "bundle--1", "spec_version": "2.0", "objects": []},
            "'spec_version' is '2.0'",
        ),
        ({"type": "bundle", "id": "bundle--1", "objects": {}}, "'objects' must be a list"),
        ({"type": "bundle", "id": "bundle--1", "objects": [{"id": "x"}]}, "x: not a STIX object"),
        (
            {"type": "bundle", "id": "bundle--1", "objects": [_indicator(spec_version="2.0")]},
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: 'spec_version' is '2.0'",
        ),
        (
            {"type": "bundle", "id": "bundle--1", "objects": [_indicator(pattern=None)]},
            r"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: .*pattern",
        ),
        (
            {"type": "bundle", "id": "bundle--1", "objects": [_indicator(pattern="[ipv4-addr:value = ")]},
            r"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: .*'pattern'",
        ),
        (
            {"type": "bundle", "id": "bundle--1", "objects": [_indicator(confidence=300)]},
            r"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: .*'confidence'",
        ),
    ],
)
def test_malformed_bundles_name_object_and_field(
    tmp_path: Path, scan_dir: Path, data: object, message: str
) -> None:
    with pytest.raises(BundleError, match=message):
        match_bundle(_write(tmp_path, data), scan_dir)


def test_not_json(tmp_path: Path, scan_dir: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(BundleError, match="not valid JSON"):
        match_bundle(bad, scan_dir)


def test_cli_exit_codes_and_json(own_bundle: Path, scan_dir: Path, tmp_path: Path, keyed: str) -> None:
    runner = CliRunner()
    found = runner.invoke(app, ["match", str(own_bundle), str(scan_dir), "--json"])
    assert found.exit_code == 0, found.output
    assert {a["account_id"] for a in json.loads(found.output)["accounts"]} == HYDRA | TOOLERS
    table = runner.invoke(app, ["match", str(own_bundle), str(scan_dir)])
    assert table.exit_code == 0 and "Matching local accounts" in table.output
    nothing = runner.invoke(
        app, ["match", str(_foreign(tmp_path, "[ipv4-addr:value = '10.9.9.9']")), str(scan_dir)]
    )
    assert nothing.exit_code == 3
    bad = runner.invoke(app, ["match", str(_write(tmp_path, {"type": "x"})), str(scan_dir)])
    assert (
        bad.exit_code == 2 and bad.output.startswith("distillguard match:") and "Traceback" not in bad.output
    )
    old = runner.invoke(app, ["match", str(own_bundle), str(tmp_path)])
    assert old.exit_code == 2 and "summary.json is missing" in old.output


def _as_partner(scan_dir: Path, out: Path) -> Path:
    """The same traffic seen by another provider: its own account ids, same payment methods and prompts."""
    import shutil

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    shutil.copytree(scan_dir, out)
    for path in [*out.glob("store/**/*.parquet")]:
        table = pq.read_table(path)
        for col in ("account_id", "src", "dst"):
            if col in table.column_names:
                i = table.column_names.index(col)
                table = table.set_column(i, col, pc.replace_substring(table[col], "hydra-", "partner-"))
        pq.write_table(table, path)
    for name in ("accounts.csv", "findings.jsonl"):
        (out / name).write_text((out / name).read_text().replace("hydra-", "partner-"))
    return out


def test_partner_with_the_shared_key_matches_payment_without_raw_data(
    own_bundle: Path, scan_dir: Path, tmp_path: Path, keyed: str
) -> None:
    partner = _as_partner(scan_dir, tmp_path / "partner")
    result = match_bundle(own_bundle, partner)
    hit = next(a for a in result.accounts if a["account_id"] == "partner-01")
    # not the account pseudonym (the partner's ids differ), but the shared payment method and domain
    assert "account" not in hit["kinds"] and {"payment", "email_domain", "ip", "template"} <= set(
        hit["kinds"]
    )
    assert "pm-shared-77" not in own_bundle.read_text()
