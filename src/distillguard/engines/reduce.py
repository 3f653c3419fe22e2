"""The account-level steps on Spark: template assignment and per-account features.

Both run the definitions the embedded engine runs: `signals.templates.DISTINCT_SKELETONS_SQL` and
`signals.assign_templates` (over the distinct skeletons, a driver-sized aggregate), and
`features.render("spark")` (one SQL text for both engines). The feature table comes back to the
driver, one row per account, cast to the column types the embedded engine gives.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.engines.dialect import conform, spark_sql
from distillguard.features import materialize, render
from distillguard.ingest.loader import part_schema
from distillguard.schema import ACCOUNT_SCHEMA
from distillguard.signals import assign_templates
from distillguard.signals.templates import DISTINCT_SKELETONS_SQL

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

EXCHANGES_VIEW = "exchanges"
ACCOUNTS_VIEW = "accounts"


def template_map(spark: SparkSession, exchanges: DataFrame) -> pa.Table:
    """(skeleton_hash, template_id) for every distinct skeleton of `exchanges`.

    Spark computes the distinct skeletons with `signals.templates.DISTINCT_SKELETONS_SQL`; the
    driver then runs `signals.assign_templates` itself over that aggregate, presented as an
    `exchanges` view with one row per skeleton (its exchange_id being the skeleton hash). The
    grouping depends only on the distinct skeletons, so the mapping is the embedded engine's.
    """
    exchanges.createOrReplaceTempView(EXCHANGES_VIEW)
    distinct = spark.sql(DISTINCT_SKELETONS_SQL).toArrow()
    skeletons = distinct.append_column("exchange_id", distinct.column("skeleton_hash"))
    con = duckdb.connect(":memory:")
    try:
        con.register(EXCHANGES_VIEW, skeletons)
        mapping = assign_templates(con)
    finally:
        con.close()
    return pa.table(
        {"skeleton_hash": mapping.column("exchange_id"), "template_id": mapping.column("template_id")}
    )


def with_templates(spark: SparkSession, exchanges: DataFrame, mapping: pa.Table) -> DataFrame:
    """`exchanges` plus `template_id` (null exactly when skeleton_hash is), as the store's view."""
    from pyspark.sql import functions as F

    if mapping.num_rows == 0:
        return exchanges.withColumn("template_id", F.lit(None).cast("string"))
    templates = spark.createDataFrame(mapping)
    # The mapping has one row per distinct skeleton: far smaller than the exchanges.
    return exchanges.join(F.broadcast(templates), on="skeleton_hash", how="left").select(
        *exchanges.columns, "template_id"
    )


def write_single_parquet(frame: DataFrame, work_dir: Path, target: Path, schema: pa.Schema) -> int:
    """Write `frame` through Spark, then merge its parts into one Parquet file; return its rows.

    The merge streams one row group at a time, so the driver never holds the whole table.
    """
    frame.write.mode("overwrite").parquet(str(work_dir))
    rows = 0
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for part in sorted(work_dir.glob("part-*.parquet")):
            pf = pq.ParquetFile(part)
            for i in range(pf.num_row_groups):
                group = pf.read_row_group(i)
                writer.write_table(conform(group, schema))
                rows += group.num_rows
    return rows


def embedded_feature_schema() -> pa.Schema:
    """The schema `features.materialize` gives on DuckDB for a store with these columns."""
    con = duckdb.connect(":memory:")
    try:
        empty = part_schema(True).empty_table().append_column("template_id", pa.array([], pa.string()))
        con.register(EXCHANGES_VIEW, empty)
        con.register(ACCOUNTS_VIEW, ACCOUNT_SCHEMA.empty_table())
        return materialize(con).schema
    finally:
        con.close()


def account_features(spark: SparkSession, exchanges: DataFrame, accounts: pa.Table) -> pa.Table:
    """Run the feature definition on Spark over `exchanges` (with template_id) and `accounts`.

    Returns one row per account, ordered by account_id, with the embedded engine's column types.
    """
    from pyspark import StorageLevel
    from pyspark.sql.pandas.types import from_arrow_schema

    sql = spark_sql(render("spark", exchanges=EXCHANGES_VIEW, accounts=ACCOUNTS_VIEW))
    # Spark recomputes a CTE at every reference (the definition reads `exchanges` some twenty
    # times): keep the columns it reads, without the prompt texts, cached once.
    used = [c for c in exchanges.columns if re.search(rf"\b{c}\b", sql)]
    view = exchanges.select(*used).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        view.createOrReplaceTempView(EXCHANGES_VIEW)
        accounts = accounts.cast(ACCOUNT_SCHEMA)
        spark.createDataFrame(accounts, schema=from_arrow_schema(ACCOUNT_SCHEMA)).createOrReplaceTempView(
            ACCOUNTS_VIEW
        )
        return conform(spark.sql(sql).toArrow(), embedded_feature_schema())
    finally:
        view.unpersist()
