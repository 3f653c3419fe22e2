"""The scan configuration and the output writers."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from distillguard.config import ConfigError, ScanConfig, load_config
from distillguard.outputs import ACCOUNT_COLUMNS, write_summary, write_table_csv


def test_defaults_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "scan.yaml"
    path.write_text("threshold: 0.7\nmapping: glasswally\nlink: {resolution: 0.5}\n")
    config = load_config(path, threshold=0.8)
    assert (config.threshold, config.mapping, config.link) == (0.8, "glasswally", {"resolution": 0.5})
    assert 0.0 <= ScanConfig().threshold <= 1.0
    assert load_config(None, threshold=None).threshold == ScanConfig().threshold


def test_unreadable_config_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "list.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level"):
        load_config(bad)


def test_accounts_csv_keeps_the_column_order_and_ranks_by_risk(tmp_path: Path) -> None:
    table = pa.table(
        {
            "reasons": ["a; b", "", "c"],
            "account_id": ["x", "y", "z"],
            "risk": [0.2, 0.9, 0.5],
            "flagged": [False, True, False],
            "cluster_id": [None, "cl-1", None],
            "exchanges": [3, 40, 7],
        }
    )
    path = write_table_csv(table, ACCOUNT_COLUMNS, tmp_path / "accounts.csv")
    lines = path.read_text().splitlines()
    assert lines[0].replace('"', "") == ",".join(ACCOUNT_COLUMNS)
    assert [line.split(",")[0].strip('"') for line in lines[1:]] == ["y", "z", "x"]
    assert lines[1].split(",")[3] == '"cl-1"' and lines[2].split(",")[3] == ""  # no cluster: empty


def test_list_columns_become_text_and_missing_columns_empty(tmp_path: Path) -> None:
    table = pa.table({"cluster_id": ["c1"], "capabilities": [["coding", "tool_use"]]})
    path = write_table_csv(table, ("cluster_id", "capabilities", "reasons"), tmp_path / "c.csv")
    assert path.read_text().splitlines()[1] == '"c1","coding,tool_use",'


def test_summary_is_json_with_numpy_values(tmp_path: Path) -> None:
    import numpy as np

    path = write_summary({"exchanges": np.int64(5), "risk": np.float32(0.5)}, tmp_path / "summary.json")
    assert orjson.loads(path.read_bytes()) == {"exchanges": 5, "risk": 0.5}
