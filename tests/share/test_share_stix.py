"""The STIX 2.1 bundle: valid against the specification, one campaign per flagged cluster, indicators
for infrastructure and behaviour, no raw identifiers and no prompt text unless asked."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import stix2
from share_support import KEY, scan_fixture
from stix2patterns.validator import run_validator

from distillguard.report import open_scan
from distillguard.share import Pseudonymizer, build_bundle, write_bundle


def _bundle(scan_dir: Path, tmp_path: Path, **share: object) -> dict:
    path = write_bundle(
        scan_dir, {"share": {"provider_name": "Example AI", **share}}, out=tmp_path / "b.json"
    )
    return json.loads(path.read_text())


def _by_type(bundle: dict, kind: str) -> list[dict]:
    return [o for o in bundle["objects"] if o["type"] == kind]


def test_bundle_is_valid_stix_21(scan_dir: Path, tmp_path: Path, keyed: str) -> None:
    bundle = _bundle(scan_dir, tmp_path)
    parsed = stix2.parse(json.dumps(bundle), allow_custom=False)  # extensions are declared, nothing custom
    assert parsed.type == "bundle" and len(parsed.objects) == len(bundle["objects"])
    for obj in bundle["objects"]:
        assert obj.get("spec_version", "2.1") == "2.1"
    for ind in _by_type(bundle, "indicator"):
        assert run_validator(ind["pattern"]) == [], ind["pattern"]
        assert ind["pattern_type"] == "stix"


def test_one_campaign_per_flagged_cluster(scan_dir: Path, tmp_path: Path, keyed: str) -> None:
    bundle = _bundle(scan_dir, tmp_path)
    campaigns = {c["name"]: c for c in _by_type(bundle, "campaign")}
    assert set(campaigns) == {"Distillation cluster C-001", "Distillation cluster C-002"}  # C-003 not flagged
    hydra = campaigns["Distillation cluster C-001"]
    assert hydra["confidence"] == 93
    assert hydra["first_seen"] == "2026-03-02T00:00:00Z" and hydra["last_seen"].startswith("2026-03-03T23:")
    ext = next(iter(hydra["extensions"].values()))
    assert ext["accounts"] == 6 and ext["models"] == ["frontier-4", "frontier-5"]
    provider = next(i for i in _by_type(bundle, "identity") if i["name"] == "Example AI")
    assert all(o["created_by_ref"] == provider["id"] for o in _by_type(bundle, "indicator"))
    # every indicator indicates a campaign, with the campaign's confidence
    targets = {r["source_ref"]: r["target_ref"] for r in _by_type(bundle, "relationship")}
    ids = {c["id"]: c for c in campaigns.values()}
    for ind in _by_type(bundle, "indicator"):
        assert ind["confidence"] == ids[targets[ind["id"]]]["confidence"]
    report = _by_type(bundle, "report")[0]
    assert set(report["object_refs"]) >= set(ids) | set(targets)
    tlp = _by_type(bundle, "marking-definition")[0]
    assert all(o["object_marking_refs"] == [tlp["id"]] for o in _by_type(bundle, "indicator"))


def test_indicators_cover_infrastructure_and_behaviour(scan_dir: Path, tmp_path: Path, keyed: str) -> None:
    bundle = _bundle(scan_dir, tmp_path)
    patterns = [i["pattern"] for i in _by_type(bundle, "indicator")]
    assert "[ipv4-addr:value ISSUBSET '203.0.113.0/24']" in patterns
    assert "[x-distillguard-template:skeleton_hash = 'sk-cot-1']" in patterns
    assert any("'User-Agent' = 'node-fetch/3.3'" in p for p in patterns)
    key = Pseudonymizer(KEY.encode())
    assert f"[x-distillguard-account:payment_pseudonym = '{key('payment', 'pm-shared-77')}']" in patterns
    account_patterns = [p for p in patterns if p.startswith("[user-account:user_id IN")]
    assert len(account_patterns) == 2 and key("account", "hydra-01") in account_patterns[0]
    kinds = Counter(
        next(iter(i["extensions"].values()))["observable_kind"] for i in _by_type(bundle, "indicator")
    )
    assert set(kinds) == {"ip_range", "user_agent", "template", "payment", "email_domain", "account"}


def test_values_common_among_cleared_accounts_are_withheld(
    scan_dir: Path, tmp_path: Path, keyed: str
) -> None:
    # the hydra's SDK user agent is also used by three ordinary local accounts: a noisy indicator
    bundle = _bundle(scan_dir, tmp_path)
    assert not any("python-httpx" in i["pattern"] for i in _by_type(bundle, "indicator"))
    hydra = next(c for c in _by_type(bundle, "campaign") if c["name"].endswith("C-001"))
    assert next(iter(hydra["extensions"].values()))["indicators_withheld_as_common"] == 1
    loose = _bundle(scan_dir, tmp_path, local_fp_guard=50)
    assert any("python-httpx" in i["pattern"] for i in _by_type(loose, "indicator"))


def test_no_raw_identifiers_or_prompts(scan_dir: Path, tmp_path: Path, keyed: str) -> None:
    text = json.dumps(_bundle(scan_dir, tmp_path))
    for raw in ("hydra-01", "tool-01", "pm-shared-77", "mailbox-relay.example", "quickmail.example"):
        assert raw not in text
    for _, prompt, _ in scan_fixture.TEMPLATES.values():
        assert prompt.split("{")[0][:40] not in text


def test_prompts_only_on_opt_in(scan_dir: Path, tmp_path: Path, keyed: str) -> None:
    bundle = _bundle(scan_dir, tmp_path, include_prompts=True)
    samples = [
        ext["sample_prompt"]
        for i in _by_type(bundle, "indicator")
        for ext in i["extensions"].values()
        if "sample_prompt" in ext
    ]
    assert any(s.startswith("Solve the problem below") for s in samples)


def test_without_key_the_bundle_says_its_pseudonyms_are_ephemeral(scan_dir: Path, no_key: None) -> None:
    with open_scan(scan_dir) as scan:
        bundle, pseudonym = build_bundle(scan, None)
    assert pseudonym.ephemeral
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert next(iter(report["extensions"].values()))["pseudonym_key_id"] == "ephemeral"


@pytest.mark.parametrize("tlp", ["clear", "green", "amber", "red"])
def test_objects_are_what_stix2_would_write(scan_dir: Path, tmp_path: Path, keyed: str, tlp: str) -> None:
    # The bundle is written as JSON directly: each object must be exactly what the stix2 library makes
    # of it (same properties, values, timestamp precision and property order), and the marking the
    # library's own TLP definition.
    bundle = _bundle(scan_dir, tmp_path, tlp=tlp, include_prompts=True)
    for obj in bundle["objects"]:
        again = json.loads(stix2.parse(obj, allow_custom=False).serialize())
        assert list(again.items()) == list(obj.items()), obj["id"]
    marking = json.loads(getattr(stix2, f"TLP_{'WHITE' if tlp == 'clear' else tlp.upper()}").serialize())
    assert bundle["objects"][0] == marking
    assert list(json.loads(stix2.parse(bundle, allow_custom=False).serialize())) == list(bundle)


def test_no_flagged_cluster_gives_an_empty_but_valid_bundle(tmp_path: Path, keyed: str) -> None:
    scan_dir = scan_fixture.build_scan_dir(tmp_path / "quiet")
    clusters = scan_dir / "clusters.csv"
    clusters.write_text(clusters.read_text().replace("True", "False"))
    bundle = _bundle(scan_dir, tmp_path)
    stix2.parse(json.dumps(bundle))
    assert _by_type(bundle, "campaign") == [] and _by_type(bundle, "indicator") == []


@pytest.mark.parametrize(
    "value", ["it's", "back\\slash", "x' OR '1'='1", "trailing\\", "line\nbreak ] [", "naïve 🤖/1.0", ""]
)
def test_pattern_quoting(value: str) -> None:
    from distillguard.share.bundle import literals
    from distillguard.share.stix import quote

    pattern = f"[x-distillguard-template:skeleton_hash = {quote(value)}]"
    assert run_validator(pattern) == []
    assert literals(quote(value)) == [value]


def test_every_reference_resolves_inside_the_bundle(scan_dir: Path, tmp_path: Path, keyed: str) -> None:
    bundle = _bundle(scan_dir, tmp_path)
    ids = {o["id"] for o in bundle["objects"]}
    assert len(ids) == len(bundle["objects"])  # no id used twice
    for obj in bundle["objects"]:
        for key, value in obj.items():
            refs = value if key.endswith("_refs") else [value] if key.endswith("_ref") else []
            assert set(refs) <= ids, (obj["id"], key)
        for ext_id in obj.get("extensions", {}):
            assert ext_id in ids, (obj["id"], ext_id)  # the extension is defined in the bundle


def test_only_flagged_members_speak_for_the_campaign(tmp_path: Path, keyed: str) -> None:
    scan_dir = scan_fixture.build_scan_dir(tmp_path / "partial")
    accounts = scan_dir / "accounts.csv"
    rows = accounts.read_text().splitlines()
    accounts.write_text(
        "\n".join(r.replace("True", "False") if r.startswith("hydra-06,") else r for r in rows)
    )
    bundle = _bundle(scan_dir, tmp_path)
    hydra = next(c for c in _by_type(bundle, "campaign") if c["name"].endswith("C-001"))
    ext = next(iter(hydra["extensions"].values()))
    assert (ext["accounts"], ext["cluster_accounts"]) == (5, 6)
    unjudged = Pseudonymizer(KEY.encode())("account", "hydra-06")
    assert unjudged not in json.dumps(bundle)
    assert "203.0.113.0/24" in json.dumps(bundle)  # the five flagged members still share the range


def test_writing_a_bundle_loads_no_stix_library_and_no_report_page(
    scan_dir: Path, tmp_path: Path, keyed: str
) -> None:
    # the scan writes a bundle after every run: it should not pay for the libraries it does not use
    code = (
        "import sys\n"
        "from distillguard.share import write_bundle\n"
        "write_bundle(sys.argv[1], out=sys.argv[2])\n"
        "heavy = ('stix2', 'stix2patterns', 'antlr4', 'jinja2', 'matplotlib', 'igraph')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(scan_dir), str(tmp_path / "b.json")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
    stix2.parse((tmp_path / "b.json").read_text(), allow_custom=False)
