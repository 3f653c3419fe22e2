"""Parquet parts of the exchange store: one writer for the map step's parts and their rewrites.

Kept apart from `store` (DuckDB), so that map workers write parts without importing DuckDB.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# Columns whose values rarely repeat: a Parquet dictionary for them costs time and saves nothing.
_MOSTLY_DISTINCT = frozenset(
    {"exchange_id", "content_hash", "line", "ts", "user_text", "lsh_keys", "frame_keys"}
)


def write_exchange_part(table: pa.Table, path: Path | str) -> None:
    """Write one Parquet part of the exchange store."""
    dictionary = [name for name in table.column_names if name not in _MOSTLY_DISTINCT]
    pq.write_table(table, path, compression="zstd", compression_level=1, use_dictionary=dictionary)
