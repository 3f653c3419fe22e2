"""`distillguard scan`: exit codes and one-line errors for bad input and usage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from pipeline_builders import write_log
from typer.testing import CliRunner

from distillguard.cli import app

runner = CliRunner()


def _scan(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["scan", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def _one_line(stderr: str) -> str:
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_good_scan_exits_0_and_prints_a_summary_table(tmp_path: Path) -> None:
    code, out, _ = _scan(write_log(tmp_path / "log.jsonl"), "--out", tmp_path / "out", "--threshold", "0.9")
    assert code == 0
    assert "exchanges" in out and "flagged accounts" in out
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["threshold"] == 0.9 and summary["exchanges"] == 120


def test_missing_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, _, err = _scan(tmp_path / "nope.jsonl", "--out", tmp_path / "out")
    assert code == 2 and "no such file or directory" in _one_line(err)


def test_wrong_file_type_is_one_line_and_exit_2(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(64))
    code, _, err = _scan(pdf, "--out", tmp_path / "out")
    assert code == 2 and "not an exchange log" in _one_line(err)


def test_strict_names_the_first_bad_record_and_exits_2(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", extra_lines=[b"{cut", b"[]"])
    code, _, err = _scan(log, "--out", tmp_path / "out", "--strict")
    line = _one_line(err)
    assert code == 2 and "log.jsonl:121: invalid_json" in line
    # without --strict the same input scans, with the bad records explained; --quiet prints nothing
    code, out, _ = _scan(log, "--out", tmp_path / "out2", "--quiet")
    summary = orjson.loads((tmp_path / "out2" / "summary.json").read_bytes())
    assert (code, out, summary["rejected"]) == (0, "", 2)


@pytest.mark.parametrize(
    ("config", "message"),
    [("threshold: 3\n", "threshold"), ("detcet: {}\n", "detcet"), ("threshold: [1\n", "not valid YAML")],
)
def test_bad_config_is_one_line_naming_the_file_and_exit_2(tmp_path: Path, config: str, message: str) -> None:
    path = tmp_path / "scan.yaml"
    path.write_text(config)
    code, _, err = _scan(write_log(tmp_path / "log.jsonl"), "--out", tmp_path / "out", "--config", path)
    line = _one_line(err)
    assert code == 2 and message in line and str(path) in line


def test_unknown_mapping_is_exit_2(tmp_path: Path) -> None:
    code, _, err = _scan(write_log(tmp_path / "log.jsonl"), "--out", tmp_path / "out", "--mapping", "nosuch")
    assert code == 2 and "nosuch" in _one_line(err)


def test_an_internal_error_exits_1_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import distillguard.features

    def broken(con: object) -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(distillguard.features, "materialize", broken)
    code, _, err = _scan(write_log(tmp_path / "log.jsonl"), "--out", tmp_path / "out")
    assert code == 1 and "ZeroDivisionError: oops" in _one_line(err)


def test_a_failed_template_grouping_beside_link_is_named_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The grouping runs in the thread beside link, which waits for it: the failure must surface
    # there, named, and not leave link waiting.
    import distillguard.signals

    def broken(con: object) -> None:
        raise ZeroDivisionError("no grouping")

    monkeypatch.setattr(distillguard.signals, "template_mapping", broken)
    code, _, err = _scan(write_log(tmp_path / "log.jsonl"), "--out", tmp_path / "out")
    assert code == 1 and "the templates stage failed: ZeroDivisionError: no grouping" in _one_line(err)


def _console(*args: str | Path) -> subprocess.CompletedProcess:
    """The console script's own entry point (`launch.main`), in a process of its own."""
    code = "from distillguard.launch import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=300
    )


def test_the_console_script_keeps_exit_codes_and_writes_everything(tmp_path: Path) -> None:
    # main() leaves without interpreter teardown: statuses and flushed output must survive it.
    bad = _console("scan", tmp_path / "nope.jsonl", "--out", tmp_path / "out")
    assert bad.returncode == 2 and "no such file or directory" in bad.stderr
    good = _console(
        "scan", write_log(tmp_path / "log.jsonl"), "--out", tmp_path / "out", "--threshold", "0.9"
    )
    assert good.returncode == 0, good.stderr
    assert "flagged accounts" in good.stdout
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["exchanges"] == 120 and (tmp_path / "out" / "report.html").stat().st_size > 0
    assert _console("--help").returncode == 0
