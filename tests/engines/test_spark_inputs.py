"""Inputs, dialect and error handling of the Spark engine (mostly without starting Spark)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from distillguard.engines.dialect import conform, spark_sql
from distillguard.engines.mapstep import resolve_inputs
from distillguard.ingest import SourceError, StrictModeError


def test_fractional_literals_become_double_outside_strings() -> None:
    sql = "SELECT 7 / 24.0, x / 1000000.0, 1e0, t1.col2, '0.5' AS s, regexp_extract(a, '[0-9]+[.]0', 1)"
    assert spark_sql(sql) == (
        "SELECT 7 / 24.0D, x / 1000000.0D, 1e0, t1.col2, '0.5' AS s, regexp_extract(a, '[0-9]+[.]0', 1)"
    )


def test_apostrophes_in_comments_do_not_hide_literals() -> None:
    sql = "SELECT 1.0 -- the account's share\n, 2.0 /* it's */, 3.0 FROM t -- 4.0 isn't here\n"
    assert spark_sql(sql) == (
        "SELECT 1.0D -- the account's share\n, 2.0D /* it's */, 3.0D FROM t -- 4.0 isn't here\n"
    )


def test_conform_casts_to_the_embedded_types_and_names_missing_columns() -> None:
    spark_result = pa.table({"account_id": ["a"], "first_day_exchanges": pa.array([3], pa.int64())})
    embedded = pa.schema([("account_id", pa.string()), ("first_day_exchanges", pa.decimal128(38, 0))])
    assert conform(spark_result, embedded).schema == embedded
    with pytest.raises(ValueError, match="missing"):
        conform(spark_result.drop_columns(["first_day_exchanges"]), embedded)


def test_inputs_keep_argument_order_and_embedded_labels(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    for name in ("b.jsonl", "a.jsonl"):
        (tmp_path / "logs" / name).write_text('{"a": 1}\n')
    single = tmp_path / "z.jsonl"
    single.write_text('{"a": 1}\n')
    inputs = resolve_inputs(
        [single, tmp_path / "logs", tmp_path / "logs" / "a.jsonl", "s3a://bucket/day/*.parquet"]
    )
    assert [i.label for i in inputs] == [
        str(single),
        str(tmp_path / "logs" / "a.jsonl"),
        str(tmp_path / "logs" / "b.jsonl"),
        "s3a://bucket/day/*.parquet",
    ]
    assert [i.order for i in inputs] == [0, 1, 2, 3]
    assert [i.kind for i in inputs] == ["jsonl", "jsonl", "jsonl", "parquet"]


def test_compressed_file_without_its_suffix_is_refused(tmp_path: Path) -> None:
    hidden = tmp_path / "day.jsonl"
    hidden.write_bytes(gzip.compress(b'{"a": 1}\n'))
    with pytest.raises(ValueError, match=r"rename it to end in \.gz"):
        resolve_inputs([hidden])


def test_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        resolve_inputs([tmp_path / "absent.jsonl"])


@pytest.mark.spark
def test_spark_divides_like_the_embedded_engine(spark: Any) -> None:
    assert spark.sql("SELECT 7L / 24.0").collect()[0][0] != 7 / 24  # Spark's DECIMAL, rounded
    assert spark.sql(spark_sql("SELECT 7L / 24.0")).collect()[0][0] == 7 / 24


@pytest.mark.spark
def test_strict_stops_at_the_first_reject_in_input_order(spark: Any, tmp_path: Path) -> None:
    from distillguard.engines.spark import run_map_reduce

    log = tmp_path / "day.jsonl"
    ok = b'{"ts": "2026-03-01T00:00:00Z", "account_id": "a", "request": {"model": "m", "messages": []}}'
    log.write_bytes(b"\n".join([ok, ok, b"{broken", ok, b"[1]"]) + b"\n")
    with pytest.raises(StrictModeError, match=r"day\.jsonl:3: invalid_json"):
        run_map_reduce([log], tmp_path / "store", strict=True)
