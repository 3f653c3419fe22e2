"""The scan's output files: accounts.csv, clusters.csv, findings.jsonl and summary.json.

Column orders are part of the scan-output contract (docs/data-contracts.md); readers (report,
evaluate, share) rely on them. rejects.jsonl is streamed by ingest while it reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from distillguard.findings import Finding

ACCOUNT_COLUMNS = ("account_id", "risk", "flagged", "cluster_id", "exchanges", "reasons")
CLUSTER_COLUMNS = ("cluster_id", "accounts", "exchanges", "risk", "flagged", "capabilities", "reasons")
SUMMARY_COUNTS = (
    "input_records",
    "exchanges",
    "rejected",
    "duplicates",
    "accounts",
    "flagged_accounts",
    "clusters",
)


def _flatten(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """CSV cells are scalars: lists become comma-joined text."""
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return pa.array(
            [None if v is None else ",".join(map(str, v)) for v in column.to_pylist()], pa.string()
        )
    return column


def write_table_csv(table: pa.Table, columns: Iterable[str], path: Path) -> Path:
    """Write `columns` of `table` (in that order, missing ones empty) as CSV, highest risk first."""
    columns = list(columns)
    n = table.num_rows
    arrays = [
        _flatten(table[name]) if name in table.column_names else pa.nulls(n, pa.string()) for name in columns
    ]
    out = pa.table(arrays, names=columns)
    if n and "risk" in columns:
        out = out.sort_by([("risk", "descending"), (columns[0], "ascending")])
    if n and "risk" in columns:
        out = out.set_column(columns.index("risk"), "risk", pc.round(out["risk"].cast(pa.float64()), 6))
    options = pacsv.WriteOptions(quoting_style="needed")
    tmp = path.with_suffix(".csv.tmp")
    pacsv.write_csv(out, tmp, write_options=options)
    os.replace(tmp, path)
    return path


def write_findings(findings: Iterable[Finding], path: Path) -> int:
    """One `Finding.to_dict()` per line; returns the number written."""
    count = 0
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("wb") as fh:
        for finding in findings:
            # orjson writes a dataclass as the mapping of its fields, in order, exactly as it writes
            # `to_dict()`, without the deep copy `dataclasses.asdict` makes of the evidence.
            fh.write(orjson.dumps(finding, option=_JSON_OPTIONS, default=_default) + b"\n")
            count += 1
    os.replace(tmp, path)
    return count


def write_summary(summary: dict[str, Any], path: Path) -> Path:
    """summary.json, pretty-printed (people read it), written atomically."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(orjson.dumps(summary, option=_JSON_OPTIONS | orjson.OPT_INDENT_2, default=_default))
    os.replace(tmp, path)
    return path


_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy / arrow scalars
        return value.item()
    if hasattr(value, "as_py"):
        return value.as_py()
    return str(value)
