"""The distributed engine: the scan's map and reduce steps on Apache Spark.

`run_map_reduce` builds the same store as the embedded engine (`ingest.ingest_paths` followed by
the template and feature steps), with the same definitions:

1. map (executors, Python over Arrow batches): every record through `ingest.normalize_lines` /
   `normalize_records` and `signals.compute_signals` (see `engines.mapstep`), staged as Parquet;
2. rejects (driver, streamed in input order) and duplicates (Spark: the first occurrence of an
   `exchange_id` in input order is kept), then the exchange parts, in input order;
3. templates over the distinct skeletons (driver-sized), features in Spark SQL
   (see `engines.reduce`).

Link, detect and decide then run on the driver over the store, as with the embedded engine.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq

from distillguard import store
from distillguard.engines import mapstep, reduce
from distillguard.engines.session import get_session
from distillguard.ingest import FieldMapping, IngestReport, StrictModeError, expand_paths, read_accounts
from distillguard.ingest.accounts import empty_accounts
from distillguard.ingest.loader import KEPT_REJECTS, part_schema
from distillguard.signals import TEMPLATES_SCHEMA

WORK_DIR = "_spark"  # Spark's intermediate files, under the store; removed when done
ORDER = ("source_order", "source", "line")  # input order: file argument, file, line
_STAGES = ("map", "rejects", "exchanges", "templates", "features")


class _Stages:
    """Reports stage completion to an optional rich Progress."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task = progress.add_task("Spark map and reduce", total=len(_STAGES)) if progress else None

    def done(self) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, 1)


def _write_rejects(staged: Any, path: Path, report: IngestReport, strict: bool) -> None:
    """Stream the rejects to `path` in input order; count them by reason."""
    from pyspark.sql import functions as F

    rejects = (
        staged.filter(F.col("reject_reason").isNotNull())
        .orderBy(*ORDER)
        .select(
            "source",
            "line",
            F.col("reject_reason").alias("reason"),
            F.col("reject_detail").alias("detail"),
        )
    )
    reasons: Counter[str] = Counter()
    with path.open("wb") as fh:
        for row in rejects.toLocalIterator():
            # keys in the order ingest writes them, so the files are byte-identical
            rej = {k: row[k] for k in ("source", "line", "reason", "detail")}
            if strict:
                raise StrictModeError(rej)
            reasons[rej["reason"]] += 1
            fh.write(orjson.dumps(rej) + b"\n")
            if len(report.rejects) < KEPT_REJECTS:
                report.rejects.append(rej)
    report.rejected = sum(reasons.values())
    report.reject_reasons = dict(reasons)


def _write_exchanges(staged: Any, work: Path, target: Path) -> tuple[int, int]:
    """Remove duplicates and write the exchange parts in input order; return (total, kept)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    exchanges = staged.filter(F.col("reject_reason").isNull())
    first = Window.partitionBy("exchange_id").orderBy(*ORDER)
    unique = (
        exchanges.withColumn("_nth", F.row_number().over(first))
        .filter(F.col("_nth") == 1)
        .orderBy(*ORDER)
        .select(*part_schema(True).names)
    )
    out = work / "exchanges"
    unique.write.mode("overwrite").option("compression", "zstd").parquet(str(out))
    target.mkdir(parents=True, exist_ok=True)
    kept = 0
    for n, part in enumerate(sorted(out.glob("part-*.parquet"))):
        rows = pq.ParquetFile(part).metadata.num_rows
        if rows:
            part.replace(target / f"part-{n:06d}.parquet")
            kept += rows
    if kept == 0:  # an empty store still has the schema, so the views work
        pq.write_table(part_schema(True).empty_table(), target / "part-000000.parquet")
    total = exchanges.count()
    return total, kept


def run_map_reduce(
    paths: list[str | Path] | tuple[str | Path, ...],
    store_dir: Path,
    *,
    accounts: Path | None = None,
    mapping: FieldMapping | None = None,
    master: str | None = None,
    progress: Any = None,
    strict: bool = False,
    rejects_out: Path | None = None,
) -> IngestReport:
    """Build the scan's store under `store_dir` on Spark; return what was read and kept.

    Writes exchanges/part-*.parquet (exchange + signal columns, duplicates removed, input order),
    accounts.parquet, templates.parquet and account_features.parquet, and the rejects as JSON
    Lines to `rejects_out` (default `store_dir/rejects.jsonl`), exactly as the embedded engine
    does. `paths` may be local files, directories and globs, or URIs Spark can read (s3a://,
    hdfs://, ...). `master` defaults to the running session, else `local[2]`; a session started
    here is stopped at the end. Raises SourceError for unreadable local paths, ValueError for a
    compressed file whose name does not say so, StrictModeError at the first reject when `strict`.
    """
    from pyspark.sql import SparkSession

    started = time.perf_counter()
    inputs = mapstep.resolve_inputs(list(paths))
    if accounts is not None:
        expand_paths([accounts])  # fail before Spark starts when the file is missing
    store_dir = Path(store_dir)
    work = store_dir / WORK_DIR
    for folder in (work, store_dir / "exchanges"):
        shutil.rmtree(folder, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    rejects_path = Path(rejects_out) if rejects_out is not None else store_dir / "rejects.jsonl"
    rejects_path.parent.mkdir(parents=True, exist_ok=True)
    report = IngestReport(
        sources=[i.label for i in inputs], rejects_path=rejects_path, bytes_read=sum(i.size for i in inputs)
    )
    stages = _Stages(progress)

    owned = SparkSession.getActiveSession() is None
    spark = get_session(master)
    try:
        mapstep.map_exchanges(spark, inputs, mapping).write.mode("overwrite").parquet(str(work / "mapped"))
        staged = spark.read.parquet(str(work / "mapped"))
        stages.done()
        _write_rejects(staged, rejects_path, report, strict)
        stages.done()
        total, report.exchanges = _write_exchanges(staged, work, store_dir / "exchanges")
        report.duplicates = total - report.exchanges
        report.input_records = total + report.rejected
        stages.done()

        table = empty_accounts()
        if accounts is not None:

            def account_reject(rej: dict[str, Any]) -> None:
                with rejects_path.open("ab") as fh:
                    fh.write(orjson.dumps(rej) + b"\n")

            table, report.accounts_rejected = read_accounts(accounts, on_reject=account_reject)
        pq.write_table(table, store_dir / "accounts.parquet")
        report.account_records = table.num_rows

        exchanges = spark.read.parquet(str(store_dir / "exchanges"))
        skeletons = reduce.template_map(spark, exchanges)
        exchanges = reduce.with_templates(spark, exchanges, skeletons)
        reduce.write_single_parquet(
            exchanges.select(*TEMPLATES_SCHEMA.names),
            work / "templates",
            store_dir / "templates.parquet",
            TEMPLATES_SCHEMA,
        )
        stages.done()
        store.write_table(store_dir, "account_features", reduce.account_features(spark, exchanges, table))
        stages.done()
    finally:
        if owned:
            spark.stop()
        shutil.rmtree(work, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report
