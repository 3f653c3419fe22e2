"""`evaluate` and the CLI on a hand-built truth file and scan directory."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from distillguard.cli import app
from distillguard.evaluate import EvaluationError, evaluate


@pytest.fixture
def world_and_scan(tmp_path):
    world, scan = tmp_path / "world", tmp_path / "scan"
    world.mkdir()
    scan.mkdir()
    truth = [
        {"account_id": "l1", "label": "legit", "archetype": "casual_chat", "campaign_id": None},
        {"account_id": "l2", "label": "legit", "archetype": "chat_product", "campaign_id": None},
        {"account_id": "c1", "label": "campaign", "archetype": "campaign", "campaign_id": "A"},
        {"account_id": "c2", "label": "campaign", "archetype": "campaign", "campaign_id": "A"},
        {"account_id": "ghost", "label": "legit", "archetype": "new_account", "campaign_id": None},
    ]
    (world / "truth.jsonl").write_text("".join(json.dumps(t) + "\n" for t in truth))
    pq.write_table(
        pa.table(
            {
                "exchange_id": ["e1", "e2", "e3", "e4"],
                "account_id": ["l1", "c1", "c2", "c2"],
                "campaign_id": [None, "A", "A", "A"],
            }
        ),
        world / "exchange_truth.parquet",
    )
    (world / "manifest.json").write_text(json.dumps({"scenario": "t", "seed": 1001, "split": "eval"}))
    (scan / "accounts.csv").write_text(
        "account_id,risk,flagged,cluster_id,exchanges,reasons\n"
        'c1,0.9,true,k1,1,"x"\nc2,0.4,false,k1,2,""\nl1,0.1,false,,1,""\nl2,0.7,true,,1,"y"\n'
    )
    (scan / "summary.json").write_text(json.dumps({"threshold": 0.5}))
    return world, scan


def test_evaluate_by_hand(world_and_scan):
    world, scan = world_and_scan
    r = evaluate(world / "truth.jsonl", scan)
    assert r.threshold == 0.5
    assert (r.accounts["tp"], r.accounts["fp"], r.accounts["fn"], r.accounts["tn"]) == (1, 1, 1, 2)
    assert r.accounts["fpr"] == pytest.approx(1 / 3)
    assert r.campaigns == [
        {
            "campaign_id": "A",
            "accounts": 2,
            "flagged": 1,
            "recall": 0.5,
            "exchange_share": pytest.approx(1 / 3),
        }
    ]
    rates = {a["archetype"]: a["rate"] for a in r.archetypes}
    assert rates == {"casual_chat": 0.0, "chat_product": 1.0, "new_account": 0.0}
    assert r.clusters["ari_campaign_accounts"] == pytest.approx(1.0)
    assert any("1 account of the truth file had no exchange" in n for n in r.notes)
    md = r.to_markdown()
    assert "| precision | 50.0% |" in md and "| A | 2 | 1 | 50.0% | 33.3% |" in md
    html = r.to_html()
    assert "<table>" in html and "chat_product" in html


def test_tuning_worlds_are_called_out(world_and_scan):
    world, scan = world_and_scan
    (world / "manifest.json").write_text(json.dumps({"seed": 3, "split": "train"}))
    assert any("is for tuning" in n for n in evaluate(world / "truth.jsonl", scan).notes)


def test_bad_inputs_are_explained(tmp_path, world_and_scan):
    world, scan = world_and_scan
    with pytest.raises(EvaluationError, match=r"no accounts\.csv"):
        evaluate(world / "truth.jsonl", tmp_path)
    with pytest.raises(EvaluationError, match="does not exist"):
        evaluate(tmp_path / "nope.jsonl", scan)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"account_id": "x", "label": "campaign"}\n')
    with pytest.raises(EvaluationError, match=r"bad.jsonl:1: bad truth row: a campaign account needs"):
        evaluate(bad, scan)


def test_cli_writes_every_format(world_and_scan, tmp_path):
    world, scan = world_and_scan
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(scan),
            "--truth",
            str(world / "truth.jsonl"),
            "--markdown",
            str(out / "e.md"),
            "--html",
            str(out / "e.html"),
            "--json",
            str(out / "e.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "precision" in result.output
    assert json.loads((out / "e.json").read_text())["accounts"]["tp"] == 1
    assert (out / "e.md").read_text().startswith("# distillguard evaluation")
    bad = CliRunner().invoke(app, ["evaluate", str(tmp_path), "--truth", str(world / "truth.jsonl")])
    assert bad.exit_code == 2
