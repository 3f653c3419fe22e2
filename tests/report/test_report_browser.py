"""The report in a real browser: it renders without errors, its plots draw, the drill-down opens.

Uses Debian's Chromium (installed by .ci/run) driven by Playwright; a screenshot is kept in
test-artifacts/ for a human look.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from scan_fixture import EVIL_ACCOUNT

from distillguard.report import write_report

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def page(scan_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    report = write_report(scan_dir, tmp_path_factory.mktemp("browser") / "report.html")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        tab = browser.new_page(viewport={"width": 1360, "height": 900})
        problems: list[str] = []
        tab.on(
            "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        )
        tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        tab.on(
            "request",
            lambda r: problems.append(f"network: {r.url}") if not r.url.startswith("file:") else None,
        )
        tab.goto(report.as_uri())
        tab.wait_for_load_state("load")
        tab.problems = problems  # type: ignore[attr-defined]
        yield tab
        browser.close()


def test_renders_offline_without_errors(page) -> None:
    assert page.title().startswith("distillguard report")
    assert page.locator("article.campaign").count() == 2
    assert page.problems == []
    assert page.evaluate("window.__pwned") is None  # payloads in the data did not run


def test_plots_draw(page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    for selector, least in (("svg.chart", 5), ("svg.hbars", 3), ("svg.graph", 10)):
        plot = page.locator(selector).first
        box = plot.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 30, selector
        # shapes the browser actually laid out with a size (not merely present in the markup)
        drawn = plot.evaluate(
            "svg => Array.from(svg.querySelectorAll('rect, path, circle, line, polyline, polygon'))"
            ".filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length"
        )
        assert drawn >= least, f"{selector}: only {drawn} drawn shapes"
    assert page.locator("svg.graph circle.node").count() == 11  # the linked accounts of the fixture


def test_drill_down_opens_from_table_graph_and_links(page) -> None:
    drawer = page.locator("#drawer")
    assert drawer.is_hidden()
    page.locator("#accounts-table tbody tr", has_text="hydra-02").click()
    assert drawer.is_visible()
    panel = page.locator("section.drill:visible")
    assert panel.count() == 1 and "hydra-02" in panel.locator("h3").inner_text()
    assert panel.locator("svg.cadence rect").count() == 24
    timeline = panel.locator("svg.timeline").bounding_box()
    assert timeline and timeline["width"] > 100
    bands = panel.locator("svg.timeline polygon")
    assert bands.count() == 2  # the account used both models
    assert all(b["height"] > 5 for b in (bands.nth(i).bounding_box() for i in range(2)))
    assert "shared_payment" in panel.inner_text() and "pm-shared-77" in panel.inner_text()
    page.screenshot(path=str(ARTIFACTS / "report-drilldown.png"))
    panel.locator(".chip", has_text="hydra-03").click()  # follow a link to the linked account
    assert "hydra-03" in page.locator("section.drill:visible h3").inner_text()
    page.keyboard.press("Escape")
    assert drawer.is_hidden()
    page.locator("svg.graph circle.node").first.click()
    assert drawer.is_visible() and page.locator("section.drill:visible").count() == 1
    page.locator("#drawer .close").click()
    assert drawer.is_hidden()


def test_hostile_account_id_opens_as_text(page) -> None:
    page.locator("#accounts-table tbody tr", has_text="tool-03").click()
    assert page.locator("section.drill:visible h3").inner_text().startswith(EVIL_ACCOUNT)
    page.keyboard.press("Escape")


def test_filter_box_hides_rows(page) -> None:
    rows = page.locator("#accounts-table tbody tr")
    page.fill("#search", "C-002")
    visible = [r for r in rows.all() if r.is_visible()]
    assert len(visible) == 3
    page.fill("#search", "")
    assert all(r.is_visible() for r in rows.all())
