"""run_scan(): the scan output contract, the record invariant, and failures that must not lose a scan."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import orjson
import pytest
from pipeline_builders import QUESTIONS, exchange, write_log

from distillguard.config import load_config
from distillguard.findings import Finding
from distillguard.outputs import ACCOUNT_COLUMNS, CLUSTER_COLUMNS, SUMMARY_COUNTS
from distillguard.pipeline import run_scan
from distillguard.store import connect

BAD_LINES = [b"{broken", b'{"ts": "2026-03-01T00:00:00Z", "request": {}}', b"", b"7"]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("scan")
    repeat = orjson.dumps(exchange(0, "user-0", QUESTIONS[0], 0.0, "198.51.0.9"))  # the log's first line
    log = write_log(tmp / "log.jsonl", extra_lines=[*BAD_LINES, repeat])
    result = run_scan([log], tmp / "out", config=load_config(None))
    return tmp / "out", result


def test_summary_holds_the_counts_and_the_invariant(scanned: tuple[Path, object]) -> None:
    out, _ = scanned
    summary = orjson.loads((out / "summary.json").read_bytes())
    for key in (*SUMMARY_COUNTS, "threshold", "engine", "version", "started", "finished", "timings"):
        assert key in summary, key
    assert summary["input_records"] == 120 + 4  # three bad lines, one id repeat; the blank line is no record
    assert (summary["exchanges"], summary["rejected"], summary["duplicates"]) == (120, 3, 1)
    assert summary["exchanges"] + summary["rejected"] + summary["duplicates"] == summary["input_records"]
    assert summary["accounts"] == 10 and summary["engine"] == "duckdb"
    assert set(summary["timings"]) >= {
        "ingest",
        "templates",
        "features",
        "link",
        "detect",
        "decide",
        "outputs",
    }


def test_rejects_file_has_one_row_per_rejected_record(scanned: tuple[Path, object]) -> None:
    out, _ = scanned
    rows = [orjson.loads(x) for x in (out / "rejects.jsonl").read_bytes().splitlines()]
    assert [(r["line"], r["reason"]) for r in rows] == [
        (121, "invalid_json"),
        (122, "missing_account"),
        (124, "not_object"),
    ]
    assert all(set(r) == {"source", "line", "reason", "detail"} for r in rows)


def test_csv_outputs_follow_the_contract(scanned: tuple[Path, object]) -> None:
    out, result = scanned
    with (out / "accounts.csv").open() as fh:
        accounts = list(csv.DictReader(fh))
    assert tuple(accounts[0]) == ACCOUNT_COLUMNS
    assert {a["account_id"] for a in accounts} == {f"user-{i}" for i in range(6)} | {
        f"h{i}" for i in range(4)
    }
    risks = [float(a["risk"]) for a in accounts]
    assert risks == sorted(risks, reverse=True) and all(0.0 <= r <= 1.0 for r in risks)
    threshold = result.summary["threshold"]
    assert all((a["flagged"] == "true") == (float(a["risk"]) >= threshold) for a in accounts)
    with (out / "clusters.csv").open() as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == CLUSTER_COLUMNS


def test_findings_are_findings(scanned: tuple[Path, object]) -> None:
    out, result = scanned
    lines = (out / "findings.jsonl").read_bytes().splitlines()
    assert len(lines) == result.summary["findings"]
    for line in lines:
        Finding(**orjson.loads(line))  # validates score range and evidence


def test_store_can_be_reopened(scanned: tuple[Path, object]) -> None:
    out, _ = scanned
    con = connect(out / "store")
    n, templated = con.execute("SELECT count(*), count(template_id) FROM exchanges").fetchone()
    assert n == 120 and templated > 0
    assert con.execute("SELECT count(*) FROM account_features").fetchone() == (10,)


def test_a_failing_report_is_reported_without_losing_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import distillguard.report

    def broken(scan_dir: Path) -> Path:
        raise RuntimeError("template missing")

    monkeypatch.setattr(distillguard.report, "write_report", broken)
    result = run_scan([write_log(tmp_path / "log.jsonl")], tmp_path / "out")
    assert result.errors and "report: RuntimeError: template missing" in result.errors[0]
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["errors"] == result.errors and summary["exchanges"] == 120
    assert (tmp_path / "out" / "accounts.csv").is_file()
    assert "template missing" in capsys.readouterr().err


def test_scanning_a_folder_twice_does_not_read_the_scan_s_own_outputs(tmp_path: Path) -> None:
    write_log(tmp_path / "log.jsonl")
    first = run_scan([tmp_path], tmp_path / "out")
    second = run_scan([tmp_path], tmp_path / "out")  # out/ now holds parquet and jsonl files
    assert first.summary["sources"] == second.summary["sources"] == [str(tmp_path / "log.jsonl")]
    assert second.summary["input_records"] == 120 and second.summary["rejected"] == 0


def test_with_map_workers_the_bundle_is_built_beside_the_report(tmp_path: Path) -> None:
    result = run_scan([write_log(tmp_path / "log.jsonl")], tmp_path / "out", workers=2)
    assert not result.errors
    assert (tmp_path / "out" / "report.html").stat().st_size > 0
    bundle = orjson.loads((tmp_path / "out" / "indicators.stix.json").read_bytes())
    assert bundle["type"] == "bundle"
    assert {"report", "share"} <= set(result.summary["timings"])
    if len(os.sched_getaffinity(0)) > 1:
        assert result.summary["peak_rss_mb"]["share_worker"] > 0


def test_views_that_fail_beside_each_other_are_both_reported(tmp_path: Path) -> None:
    from distillguard.pipeline import _BundleWorker, _Clock, _write_views

    errors: list[str] = []
    paths: dict[str, Path] = {}
    _write_views(tmp_path, load_config(None), _Clock(None), paths, errors, _BundleWorker(wanted=True))
    assert [e.split(":")[0] for e in errors] == ["report", "share"]
    assert paths == {}


def test_the_report_libraries_load_beside_link_and_the_bundle_worker_starts_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from distillguard import pipeline

    starts: list[str] = []
    start = pipeline._BundleWorker.start

    def recording(self: pipeline._BundleWorker) -> None:
        starts.append(threading.current_thread().name)
        start(self)

    preloads: list[tuple[str, tuple[str, ...]]] = []
    preload = pipeline._preload

    def recording_preload(modules: tuple[str, ...]) -> None:
        preloads.append((threading.current_thread().name, tuple(modules)))
        preload(modules)

    monkeypatch.setattr(pipeline._BundleWorker, "start", recording)
    monkeypatch.setattr(pipeline, "_preload", recording_preload)
    result = run_scan([write_log(tmp_path / "log.jsonl")], tmp_path / "out", workers=2)
    assert not result.errors and (tmp_path / "out" / "indicators.stix.json").stat().st_size > 0
    # First from the thread beside link as it finishes, then when the views are written.
    assert starts[0].startswith("beside-link") and len(starts) == 2
    # The report's libraries, pandas among them, load beside link.
    assert preloads[0][0].startswith("beside-link") and {"pandas", "distillguard.report.render"} <= set(
        preloads[0][1]
    )


def test_a_bundle_worker_is_one_process_started_once_and_only_when_wanted() -> None:
    from distillguard.pipeline import _BundleWorker

    unwanted = _BundleWorker(wanted=False)
    unwanted.start()
    assert unwanted.pool is None
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: the bundle is built in-process")
    wanted = _BundleWorker(wanted=True)
    wanted.start()
    pool = wanted.pool
    wanted.start()
    assert pool is not None and wanted.pool is pool
    assert pool.submit(os.getpid).result(timeout=120) != os.getpid()
    wanted.close()
    assert wanted.pool is None
    wanted.start()  # a closed worker is not started again
    assert wanted.pool is None
