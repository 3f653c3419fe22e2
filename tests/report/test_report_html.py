"""The HTML report: content per campaign, drill-downs, cleared heavy users, escaping, offline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from scan_fixture import EVIL_ACCOUNT, HYDRA, NEW_MODEL, OLD_MODEL, START, XSS
from typer.testing import CliRunner

from distillguard.cli import app
from distillguard.report import build_context, open_scan, write_report


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def page(scan_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_report(scan_dir, tmp_path_factory.mktemp("r") / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def context(scan_dir: Path) -> dict:
    with open_scan(scan_dir) as scan:
        return build_context(scan)


def test_attacker_text_is_escaped(page: str) -> None:
    assert XSS not in page and EVIL_ACCOUNT not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    parser = _Tags()
    parser.feed(page)
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert len(scripts) == 1  # only the report's own script
    handlers = [(tag, name) for tag, attrs in parser.tags for name in attrs if name.startswith("on")]
    assert handlers == []


def test_page_is_self_contained(page: str) -> None:
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"(https?:)?//", value), (tag, name, value)
    assert "<link" not in page and "@import" not in page
    assert "script-src 'sha256-" in page  # only the page's own script may run


def test_campaign_overview(page: str, context: dict) -> None:
    assert [c["verdict"]["cluster_id"] for c in context["clusters"]] == ["C-001", "C-002"]
    hydra = context["clusters"][0]
    assert [m["account_id"] for m in hydra["members"]] and {m["account_id"] for m in hydra["members"]} == set(
        HYDRA
    )
    assert hydra["templates"][0]["template_id"] == "tpl-cot" and hydra["templates"][0]["exchanges"] == 240
    infra = hydra["infrastructure"]
    assert ("203.0.113.0/24", 6, 360, 0) in infra["IP prefix"]
    assert infra["payment method"] == [("pm-shared-77", 6, None, 0)]
    assert ("python-httpx/0.27.0", 6, 360, 3) in infra["user agent"]  # three ordinary users share the SDK
    assert dict(hydra["capabilities"]) == {"math_reasoning": 240, "chat": 120}
    [(detector, members, mean)] = hydra["member_detectors"]
    assert (detector, members) == ("cot-harvest", 6) and mean == pytest.approx(0.88)
    assert "<svg" in hydra["timeline_svg"] and "Shared infrastructure" in page
    assert "C-003" in page  # linked but not flagged, listed apart


def test_pivot_to_new_model_is_visible(context: dict) -> None:
    axis = context["axis"]
    timeline = context["clusters"][0]["timeline"]
    pivot_bin = int((START.timestamp() + 30 * 3600) // axis["width"]) - axis["first_bin"]
    assert sum(timeline[NEW_MODEL][:pivot_bin]) == 0
    after_new, after_old = sum(timeline[NEW_MODEL][pivot_bin:]), sum(timeline[OLD_MODEL][pivot_bin:])
    assert after_new > 2 * after_old > 0


def test_drill_down_links_carry_their_reason(context: dict) -> None:
    drill = next(d for d in context["drills"] if d["verdict"]["account_id"] == "hydra-02")
    links = {link["account_id"]: link["reasons"] for link in drill["links"]}
    assert set(links) == {"hydra-01", "hydra-03"}
    kinds = {r["kind"]: r["evidence"] for r in links["hydra-01"]}
    assert kinds["shared_payment"] == {"payment_fingerprint": "pm-shared-77"}
    assert sum(drill["hours"]) == 60 and drill["ips"] == [("203.0.113.11", 60)]
    assert drill["findings"][0]["detector"] == "cot-harvest"


def test_cleared_heavy_users_say_why(page: str, context: dict) -> None:
    heavy = [d["verdict"]["account_id"] for d in context["heavy"]]
    assert heavy[:2] == ["ci-agent-acme", "evalsuite-lab"]
    assert not any(d["verdict"]["flagged"] for d in context["heavy"])
    assert "the pattern of a CI coding agent" in page
    reference = context["drills"][0]
    assert reference["cadence_svg"].count("<rect") == 24


def test_drill_downs_are_capped_and_say_so(scan_dir: Path, tmp_path: Path) -> None:
    page = write_report(scan_dir, tmp_path / "r.html", max_drilldowns=2).read_text()
    assert "drill-downs cover the 2 riskiest of 9 flagged accounts" in page
    assert page.count('<section class="drill"') == 2 + 7  # two flagged, every cleared account (7 < cap)


def test_cli_rebuilds_report(scan_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "again.html"
    result = CliRunner().invoke(app, ["report", str(scan_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000


def test_scan_with_nothing_flagged(fresh_scan_dir: Path) -> None:
    for name in ("accounts.csv", "clusters.csv"):
        path = fresh_scan_dir / name
        path.write_text(path.read_text().replace("True", "False"))
    page = write_report(fresh_scan_dir).read_text()
    assert "No cluster was flagged at threshold 0.5." in page
    assert "ci-agent-acme" in page  # the heavy users are still listed as cleared


def test_empty_scan_still_reports(fresh_scan_dir: Path) -> None:
    import pyarrow.parquet as pq

    for path in [
        *fresh_scan_dir.glob("store/exchanges/*.parquet"),
        fresh_scan_dir / "store" / "edges.parquet",
    ]:
        pq.write_table(pq.read_table(path).slice(0, 0), path)
    (fresh_scan_dir / "accounts.csv").write_text("account_id,risk,flagged,cluster_id,exchanges,reasons\n")
    (fresh_scan_dir / "clusters.csv").write_text(
        "cluster_id,accounts,exchanges,risk,flagged,capabilities,reasons\n"
    )
    (fresh_scan_dir / "findings.jsonl").write_text("")
    page = write_report(fresh_scan_dir).read_text()
    assert "No cluster was flagged" in page and "No links between accounts." in page


def test_the_compiled_template_is_cached_and_an_unwritable_cache_changes_nothing(
    scan_dir: Path, page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def comparable(text: str) -> str:  # less the time it was written and the graph's force layout
        text = re.sub(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "", text)
        return re.sub(r'<svg class="plot graph".*?</svg>', "", text, flags=re.S)

    def written(name: str) -> str:
        return comparable(write_report(scan_dir, tmp_path / name).read_text(encoding="utf-8"))

    monkeypatch.setenv("DISTILLGUARD_CACHE_DIR", str(tmp_path / "cache"))
    first = written("a.html")
    assert list((tmp_path / "cache").glob("__jinja2_*"))  # compiled once, kept
    assert written("b.html") == first  # rendered from the cached template
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("DISTILLGUARD_CACHE_DIR", str(blocker / "cache"))
    assert written("c.html") == first
    assert first == comparable(page)
