"""The Spark engine gives the embedded engine's answers on the same input.

One world of logs (a plain JSON Lines file Spark splits into several blocks, a gzip file, two
Parquet files, duplicates within and across files, rejects of every kind, an accounts file) is
scanned once with each engine; every test compares one output of the two scans.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from spark_logs import write_world

from distillguard.pipeline import run_scan

pytestmark = pytest.mark.spark
TOLERANCE = 1e-9


def _scan(logs: Path, accounts: Path, out: Path, engine: str) -> dict[str, Any]:
    """run_scan's result, or the exception it raised (so store tests still run after a late failure)."""
    try:
        return {"result": run_scan([logs], out, accounts=accounts, engine=engine), "error": None}
    except Exception as exc:  # reported by the tests that need the scan's verdicts
        return {"result": None, "error": exc}


@pytest.fixture(scope="module")
def scans(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("parity")
    logs, accounts = write_world(root)
    return {
        "plain": logs / "a.jsonl",
        "duckdb": _scan(logs, accounts, root / "duckdb", "duckdb"),
        "spark": _scan(logs, accounts, root / "spark", "spark"),
        "root": root,
    }


def _out(scans: dict[str, Any], engine: str) -> Path:
    return scans["root"] / engine


def _result(scans: dict[str, Any], engine: str) -> Any:
    if scans[engine]["error"] is not None:
        raise AssertionError(f"the {engine} scan failed") from scans[engine]["error"]
    return scans[engine]["result"]


def test_plain_file_is_read_in_several_blocks(scans: dict[str, Any], spark: Any) -> None:
    # Otherwise the line numbering across blocks would not be exercised at all.
    assert spark.read.text(str(scans["plain"])).rdd.getNumPartitions() >= 3


def test_counts_and_rejects_are_identical(scans: dict[str, Any]) -> None:
    a, b = _result(scans, "duckdb").summary, _result(scans, "spark").summary
    keys = ("input_records", "exchanges", "rejected", "duplicates", "reject_reasons", "accounts_rejected")
    assert {k: b[k] for k in keys} == {k: a[k] for k in keys}
    assert a["rejected"] >= 15 and a["duplicates"] >= 80  # the world really has both
    assert b["engine"] == "spark"
    rejects_a = (_out(scans, "duckdb") / "rejects.jsonl").read_bytes()
    assert (_out(scans, "spark") / "rejects.jsonl").read_bytes() == rejects_a
    lines = [orjson.loads(x)["line"] for x in rejects_a.splitlines() if b"a.jsonl" in x]
    assert max(lines) > 600  # rejects far into the split file carry the right line numbers


def test_exchange_store_is_identical(scans: dict[str, Any]) -> None:
    a = pq.read_table(_out(scans, "duckdb") / "store" / "exchanges")
    b = pq.read_table(_out(scans, "spark") / "store" / "exchanges").select(a.schema.names)
    assert b.num_rows == a.num_rows > 1700
    for name in a.schema.names:  # same rows in the same (input) order
        assert b.column(name).cast(a.schema.field(name).type).equals(a.column(name)), name


def test_templates_are_identical(scans: dict[str, Any]) -> None:
    a = pq.read_table(_out(scans, "duckdb") / "store" / "templates.parquet").sort_by("exchange_id")
    b = pq.read_table(_out(scans, "spark") / "store" / "templates.parquet").sort_by("exchange_id")
    assert b.equals(a)
    assert a.column("template_id").null_count < a.num_rows


def _close(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return x == y


def test_account_features_match(scans: dict[str, Any]) -> None:
    a = pq.read_table(_out(scans, "duckdb") / "store" / "account_features.parquet")
    b = pq.read_table(_out(scans, "spark") / "store" / "account_features.parquet")
    assert b.schema.remove_metadata() == a.schema.remove_metadata()
    assert b.column("account_id").equals(a.column("account_id"))
    for name in a.schema.names:
        pairs = zip(a.column(name).to_pylist(), b.column(name).to_pylist(), strict=True)
        bad = [(x, y) for x, y in pairs if not _close(x, y)]
        assert not bad, f"{name}: {bad[:3]}"


def test_verdicts_are_identical(scans: dict[str, Any]) -> None:
    a, b = _result(scans, "duckdb"), _result(scans, "spark")
    for name in ("accounts.csv", "clusters.csv"):
        assert (_out(scans, "spark") / name).read_bytes() == (_out(scans, "duckdb") / name).read_bytes()
    va, vb = a.verdicts.accounts.sort_by("account_id"), b.verdicts.accounts.sort_by("account_id")
    assert vb.column("account_id").equals(va.column("account_id"))
    assert vb.column("flagged").equals(va.column("flagged"))
    assert vb.column("cluster_id").equals(va.column("cluster_id"))
    for x, y in zip(va.column("risk").to_pylist(), vb.column("risk").to_pylist(), strict=True):
        assert abs(x - y) <= TOLERANCE
    assert any(va.column("flagged").to_pylist())  # the coordinated ring is there to be found
    assert a.summary["flagged_accounts"] == b.summary["flagged_accounts"]
    assert a.summary["clusters"] == b.summary["clusters"]
