"""The per-exchange step on Spark: log files -> normalized exchange rows with signals, or rejects.

Every record goes through the same functions as on the embedded engine, inside `mapInArrow`:
`ingest.normalize_lines` (JSON Lines) or `ingest.normalize_records` (Parquet), then
`signals.compute_signals`. The output has one row per input record: an exchange (reject columns
null) or a reject (exchange columns null but `source` and `line`), each with `source_order`, the
input file's position in the argument list, so that "first occurrence" means the same as on the
embedded engine.

Line numbers. Spark splits a large plain-text file into blocks read by different tasks, so a
record's line number is not known inside the task that parses it. Each row gets
`monotonically_increasing_id()`, which is contiguous within one block; a cheap first pass (no
Python) counts the lines of every block and the driver turns the counts into per-block offsets,
so that line = id + offset[file, block]. Compressed files are never split (one block each).
Parquet rows carry their row number in the file (`_metadata.row_index`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import pyarrow as pa

from distillguard.ingest import FieldMapping, SourceError, expand_paths, normalize_lines, normalize_records
from distillguard.ingest.loader import parquet_records, part_schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Extra columns of the step's output besides the exchange parts' columns.
STEP_FIELDS = [
    pa.field("source_order", pa.int32()),
    pa.field("reject_reason", pa.string()),
    pa.field("reject_detail", pa.string()),
]
_PARQUET_SUFFIXES = (".parquet", ".pq")


def step_schema() -> pa.Schema:
    """Arrow schema of the step's output: exchange + signal columns, then STEP_FIELDS; all nullable."""
    fields = [f.with_nullable(True) for f in part_schema(True)]
    return pa.schema([*fields, *STEP_FIELDS])


@dataclass(frozen=True)
class Input:
    """One input as Spark reads it: `uri` for Spark, `label` as the embedded engine names it."""

    uri: str
    label: str
    kind: str  # "jsonl" | "parquet"
    order: int
    size: int = 0


def is_remote(path: str | Path) -> bool:
    """True for a URI with a scheme other than file: (s3a://, hdfs://, gs://, abfss://, ...)."""
    scheme = urlparse(str(path)).scheme
    return len(scheme) > 1 and scheme != "file"


def resolve_inputs(paths: list[str | Path]) -> list[Input]:
    """Local files, directories and globs as the embedded engine expands them; URIs as given.

    Order follows the arguments; a local file given twice is read once. A local file keeps the
    embedded engine's label (its path as expanded) so that rejects and `source` columns are
    identical. A remote URI (file, directory or glob) is one input read by Spark, its files
    labelled by their URIs; its kind comes from its name (Parquet for .parquet / .pq, JSON Lines
    otherwise). Raises SourceError (from ingest) for a local path that does not exist or is not
    a log, ValueError for a compressed file Spark cannot decompress by its name.
    """
    if not paths:
        raise ValueError("no input paths given")
    inputs: list[Input] = []
    seen: set[Path] = set()
    for arg in paths:
        if is_remote(arg):
            kind = "parquet" if str(arg).rstrip("/").endswith(_PARQUET_SUFFIXES) else "jsonl"
            inputs.append(Input(str(arg), str(arg), kind, len(inputs)))
            continue
        for source in expand_paths([arg]):
            if source.path.resolve() in seen:
                continue
            seen.add(source.path.resolve())
            if source.compression and not _codec_suffix_matches(source.path, source.compression):
                raise ValueError(
                    f"{source.path}: {source.compression}-compressed, but Spark picks the codec from the "
                    f"file name: rename it to end in {'.gz' if source.compression == 'gzip' else '.zst'}"
                )
            uri = os.path.abspath(source.path)
            inputs.append(Input(uri, str(source.path), source.kind, len(inputs), source.size))
    return inputs


def _codec_suffix_matches(path: Path, compression: str) -> bool:
    return path.name.endswith(".gz" if compression == "gzip" else ".zst")


def _file_key(spark_path: str) -> str:
    """Spark's `_metadata.file_path` (a URI) as the key used in `Input.uri`."""
    parsed = urlparse(spark_path)
    if parsed.scheme in ("", "file"):
        return os.path.abspath(unquote(parsed.path))
    return spark_path


def _finish(table: pa.Table, rejects: list[dict[str, Any]], order: int, schema: pa.Schema) -> pa.Table:
    """Exchange rows + rejects of one block -> rows of `schema` (signals computed here)."""
    from distillguard.signals import SIGNAL_SCHEMA, compute_signals

    n_ex, n_rej = table.num_rows, len(rejects)
    columns: dict[str, pa.Array] = {}
    if n_ex:
        signals = compute_signals(table)
        for name in table.column_names:
            columns[name] = table.column(name).combine_chunks()
        for name in SIGNAL_SCHEMA.names:
            columns[name] = signals.column(name).combine_chunks()
    out = []
    for field in schema:
        if field.name == "source_order":
            out.append(pa.array([order] * (n_ex + n_rej), pa.int32()))
            continue
        if field.name in ("source", "line", "reject_reason", "reject_detail"):
            key = {"reject_reason": "reason", "reject_detail": "detail"}.get(field.name, field.name)
            head = columns[field.name] if field.name in columns else pa.nulls(n_ex, field.type)
            tail = pa.array([r[key] for r in rejects], field.type)
            out.append(pa.concat_arrays([head.cast(field.type), tail]))
            continue
        head = columns[field.name].cast(field.type) if n_ex else pa.array([], field.type)
        out.append(pa.concat_arrays([head, pa.nulls(n_rej, field.type)]))
    return pa.Table.from_arrays(out, schema=schema)


def _runs(keys: list) -> Iterator[tuple[int, int]]:
    """(start, end) of every run of equal consecutive keys."""
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            yield start, i
            start = i


class _Labels:
    """File (as Spark names it) -> (label, source order): known local files, else the URI itself."""

    def __init__(self, inputs: list[Input], default_order: int | None = None) -> None:
        self.known = {_file_key(i.uri): (i.label, i.order) for i in inputs}
        self.default_order = default_order

    def __call__(self, spark_path: str) -> tuple[str, int]:
        key = _file_key(spark_path)
        if key in self.known:
            return self.known[key]
        if self.default_order is None:
            raise KeyError(f"{spark_path}: read by Spark but not among the inputs")
        return key, self.default_order


def jsonl_mapper(
    labels: _Labels, offsets: dict[tuple[str, int], int], mapping: FieldMapping | None
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The mapInArrow function for JSON Lines: (raw, file, block, rid) batches -> step rows."""
    schema = step_schema()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            raws = batch.column("raw").to_pylist()
            rids = batch.column("rid").to_pylist()
            keys = list(zip(batch.column("file").to_pylist(), batch.column("block").to_pylist(), strict=True))
            for start, end in _runs(keys):
                label, order = labels(keys[start][0])
                delta = offsets[keys[start]]
                lines = ((rids[i] + delta, raws[i]) for i in range(start, end))
                table, rejects = normalize_lines(lines, label, mapping)
                yield from _finish(table, rejects, order, schema).to_batches()

    return run


def parquet_mapper(
    labels: _Labels, mapping: FieldMapping | None
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The mapInArrow function for Parquet: the file's columns + (_dg_row, _dg_file) -> step rows."""
    schema = step_schema()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = batch.column("_dg_row").to_pylist()
            files = batch.column("_dg_file").to_pylist()
            data = batch.drop_columns(["_dg_row", "_dg_file"])
            # a run is one file's consecutive rows, numbered (1-based) from its first row
            keys = [(f, r - i) for i, (f, r) in enumerate(zip(files, rows, strict=True))]
            for start, end in _runs(keys):
                label, order = labels(files[start])
                records = parquet_records(data.slice(start, end - start), rows[start] + 1)
                table, rejects = normalize_records(records, label, mapping)
                yield from _finish(table, rejects, order, schema).to_batches()

    return run


def line_offsets(text: DataFrame) -> dict[tuple[str, int], int]:
    """Per (file, block): the number to add to a row's id to get its 1-based line number.

    Runs a Spark job that counts the lines of every block (no Python, no parsing); the result has
    one row per block, a few per gigabyte of input.
    """
    from pyspark.sql import functions as F

    stats = text.groupBy("file", "block").agg(F.count("*").alias("n"), F.min("rid").alias("first_rid"))
    offsets: dict[tuple[str, int], int] = {}
    lines_before: dict[str, int] = {}
    for row in sorted(stats.collect(), key=lambda r: (r["file"], r["block"])):
        before = lines_before.get(row["file"], 0)
        offsets[(row["file"], row["block"])] = before + 1 - row["first_rid"]
        lines_before[row["file"]] = before + row["n"]
    return offsets


def _read_text(spark: SparkSession, uris: list[str]) -> DataFrame:
    from pyspark.sql import functions as F

    # Lines end at "\n" only, as on the embedded engine; a CR stays in the line and is trimmed.
    return (
        spark.read.option("lineSep", "\n")
        .text(uris)
        .select(
            F.col("value").cast("binary").alias("raw"),  # the bytes as stored, even invalid UTF-8
            F.col("_metadata.file_path").alias("file"),
            F.col("_metadata.file_block_start").alias("block"),
            F.monotonically_increasing_id().alias("rid"),
        )
    )


def _parquet_groups(inputs: list[Input]) -> list[list[Input]]:
    """Local Parquet files with the same schema are read together; each remote input alone."""
    import pyarrow.parquet as pq

    groups: dict[Any, list[Input]] = {}
    for item in inputs:
        if is_remote(item.uri):
            key: Any = ("remote", item.order)
        else:
            try:
                key = pq.read_schema(item.uri)
            except (OSError, ValueError) as exc:
                raise SourceError(f"{item.label}: not a readable Parquet file: {exc}") from None
        groups.setdefault(key, []).append(item)
    return list(groups.values())


def map_exchanges(spark: SparkSession, inputs: list[Input], mapping: FieldMapping | None) -> DataFrame:
    """A DataFrame of step rows (see `step_schema`) for every record of `inputs`."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    out_schema = from_arrow_schema(step_schema())
    frames: list[DataFrame] = []
    local_jsonl = [i for i in inputs if i.kind == "jsonl" and not is_remote(i.uri)]
    text_reads = [(local_jsonl, _Labels(local_jsonl))] if local_jsonl else []
    text_reads += [
        ([i], _Labels([], default_order=i.order)) for i in inputs if i.kind == "jsonl" and is_remote(i.uri)
    ]
    for group, labels in text_reads:
        text = _read_text(spark, [i.uri for i in group])
        frames.append(text.mapInArrow(jsonl_mapper(labels, line_offsets(text), mapping), out_schema))
    for group in _parquet_groups([i for i in inputs if i.kind == "parquet"]):
        remote = is_remote(group[0].uri)
        labels = _Labels([] if remote else group, default_order=group[0].order if remote else None)
        table = spark.read.parquet(*[i.uri for i in group]).select(
            "*",
            F.col("_metadata.row_index").alias("_dg_row"),
            F.col("_metadata.file_path").alias("_dg_file"),
        )
        frames.append(table.mapInArrow(parquet_mapper(labels, mapping), out_schema))
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result
