"""A scan directory that is incomplete or from an older version gets a one-line reason, not a traceback."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from distillguard.cli import app
from distillguard.outputs import _JSON_OPTIONS as _JSON
from distillguard.outputs import _default
from distillguard.report import ScanDirError, open_scan, write_report


def test_opens_complete_scan(scan_dir: Path) -> None:
    scan = open_scan(scan_dir)
    assert scan.has_edges and scan.has_account_meta and not scan.notes
    # template ids come from store/templates.parquet when the exchanges do not carry them
    assert scan.con.execute("SELECT count(*) FROM exchanges WHERE template_id IS NULL").fetchone() == (0,)


@pytest.mark.parametrize(
    "missing", ["summary.json", "accounts.csv", "clusters.csv", "findings.jsonl", "store/exchanges"]
)
def test_missing_file_is_named(fresh_scan_dir: Path, missing: str) -> None:
    target = fresh_scan_dir / missing
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(ScanDirError) as err:
        open_scan(fresh_scan_dir)
    assert missing.split("/")[-1] in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_csv_column_is_named(fresh_scan_dir: Path) -> None:
    path = fresh_scan_dir / "accounts.csv"
    pd.read_csv(path).drop(columns=["cluster_id"]).to_csv(path, index=False)
    with pytest.raises(ScanDirError, match=r"accounts\.csv lacks column.*cluster_id.*older"):
        open_scan(fresh_scan_dir)


def test_missing_exchange_column_is_named(fresh_scan_dir: Path) -> None:
    part = next((fresh_scan_dir / "store" / "exchanges").glob("*.parquet"))
    pq.write_table(pq.read_table(part).drop_columns(["skeleton_hash"]), part)
    with pytest.raises(ScanDirError, match="skeleton_hash"):
        open_scan(fresh_scan_dir)


def test_bad_findings_line_is_located(fresh_scan_dir: Path) -> None:
    with (fresh_scan_dir / "findings.jsonl").open("a") as fh:
        fh.write("{not json\n")
    with pytest.raises(ScanDirError, match=r"findings.jsonl:\d+: not valid JSON"):
        open_scan(fresh_scan_dir)


def test_report_without_edges_says_what_is_missing(fresh_scan_dir: Path) -> None:
    (fresh_scan_dir / "store" / "edges.parquet").unlink()
    page = write_report(fresh_scan_dir).read_text()
    assert "store/edges.parquet is absent" in page
    assert "No links between accounts." in page


def test_cli_reports_old_scan_dir_in_one_line(fresh_scan_dir: Path) -> None:
    shutil.rmtree(fresh_scan_dir / "store")
    result = CliRunner().invoke(app, ["report", str(fresh_scan_dir)])
    assert result.exit_code == 2
    out = result.output.strip()
    assert out.startswith("distillguard report:") and "store/exchanges" in out
    assert "Traceback" not in result.output and len(out.splitlines()) == 1


def test_exchange_rows_are_the_exchanges_without_template_ids(scan_dir: Path) -> None:
    with open_scan(scan_dir) as scan:
        rows = scan.con.execute(
            "SELECT * EXCLUDE (template_id) FROM exchanges ORDER BY exchange_id"
        ).fetchall()
        assert rows == scan.con.execute("SELECT * FROM exchange_rows ORDER BY exchange_id").fetchall()


def test_findings_can_be_left_unread(fresh_scan_dir: Path) -> None:
    with open_scan(fresh_scan_dir) as scan:
        assert scan.findings
    with open_scan(fresh_scan_dir, findings=False) as scan:
        assert scan.findings == []
    (fresh_scan_dir / "findings.jsonl").unlink()
    with pytest.raises(ScanDirError, match=r"findings\.jsonl is missing"):
        open_scan(fresh_scan_dir, findings=False)


def test_findings_file_holds_each_finding_as_to_dict(tmp_path: Path) -> None:
    # The scan writes each finding straight from the dataclass; a line must read back as to_dict().
    import numpy as np

    from distillguard.findings import Finding
    from distillguard.outputs import write_findings

    evidence = {
        "exchanges": np.int64(45),
        "gap_cv": np.float32(0.5),
        "accounts": {"b", "a"},
        "pair": ("x", 2),
        3: [{"template_id": "t1", "count": 2, "ts": datetime(2026, 3, 2, tzinfo=UTC)}],
        "path": Path("store/edges.parquet"),
    }
    findings = [
        Finding("ip-rotation", "account", "acct-1", 0.25, "Rotates addresses.", evidence),
        Finding("shared-template", "cluster", "C-1", 1.0, "One template.", {"n": 1}, severity="high"),
    ]
    path = tmp_path / "findings.jsonl"
    assert write_findings(findings, path) == 2
    expected = b"".join(orjson.dumps(f.to_dict(), option=_JSON, default=_default) + b"\n" for f in findings)
    assert path.read_bytes() == expected
    first = json.loads(path.read_text().splitlines()[0])
    assert list(first)[:3] == ["detector", "subject_kind", "subject_id"]
    assert first["evidence"]["accounts"] == ["a", "b"] and first["evidence"]["3"][0]["count"] == 2
