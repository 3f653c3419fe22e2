"""The simulate and demo commands, end to end on a tiny scenario."""

from __future__ import annotations

import json

import pytest
from sim_tiny import TINY
from typer.testing import CliRunner

from distillguard.cli import app


def test_simulate_command(tmp_path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    out = tmp_path / "world"
    result = CliRunner().invoke(
        app, ["simulate", "--scenario", str(scenario), "--out", str(out), "--seed", "1001", "--scale", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "exchanges" in result.output
    assert json.loads((out / "manifest.json").read_text())["scale"] == 0.5
    for name in ("exchanges.jsonl", "accounts.jsonl", "truth.jsonl", "exchange_truth.parquet"):
        assert (out / name).stat().st_size > 0


def test_simulate_command_rejects_bad_input(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncampaigns:\n  - id: a\n    accounts: 0\n")
    result = CliRunner().invoke(app, ["simulate", "--scenario", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "bad.yaml:4: campaigns.0.accounts" in result.output
    result = CliRunner().invoke(
        app, ["simulate", "-s", "quick", "-o", str(tmp_path / "o"), "--split", "test"]
    )
    assert result.exit_code == 2 and "--split" in result.output


def test_demo_runs_the_whole_chain(tmp_path):
    pytest.importorskip("distillguard.pipeline")
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--scenario", str(scenario)])
    assert result.exit_code == 0, result.output
    assert (out / "scan" / "accounts.csv").is_file()
    assert (out / "evaluation.md").read_text().startswith("# distillguard evaluation")
    assert (out / "scan" / "report.html").is_file()
    assert "report.html" in result.output.replace("\n", "")
