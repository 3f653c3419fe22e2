"""The scan's embedded store: DuckDB over Parquet files under `DIR/store/`, no server.

Layout (see docs/architecture.md): exchanges/part-*.parquet, accounts.parquet, templates.parquet,
account_features.parquet, edges.parquet. `connect` opens an in-memory DuckDB whose views read
those files, so any later step (report, match, evaluate) can reopen a finished scan.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.parts import write_exchange_part
from distillguard.schema import ACCOUNT_SCHEMA

if TYPE_CHECKING:  # imported where a connection is opened: the scan loads it while its map workers run
    import duckdb

# DuckDB spills to disk beyond this, so a 16M-exchange campaign fits one machine.
MEMORY_LIMIT = os.environ.get("DISTILLGUARD_DUCKDB_MEMORY", "6GB")


def _lit(path: Path) -> str:
    """A path as a SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def _open(store_dir: Path) -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect(":memory:")
    tmp = Path(store_dir) / "_duckdb_tmp"
    con.execute(f"SET memory_limit = {_lit(Path(MEMORY_LIMIT))}")
    con.execute(f"SET temp_directory = {_lit(tmp)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")  # the scan draws its own progress
    return con


def connect(store_dir: Path) -> duckdb.DuckDBPyConnection:
    """Open the store: views `exchanges` (exchange rows + signal columns + `template_id`),
    `accounts`, and, when their files exist, `account_features` and `edges`.

    `template_id` is NULL until the template step has written templates.parquet.
    Raises FileNotFoundError when the store has no exchanges.
    """
    store_dir = Path(store_dir)
    if not (store_dir / "exchanges").is_dir():
        raise FileNotFoundError(f"{store_dir}: not a scan store (no exchanges/ folder)")
    con = _open(store_dir)
    refresh_views(con, store_dir)
    return con


def refresh_views(con: duckdb.DuckDBPyConnection, store_dir: Path) -> None:
    """(Re)create the views after a stage has written a new file into the store."""
    store_dir = Path(store_dir)
    parts = _lit(store_dir / "exchanges" / "*.parquet")
    templates = store_dir / "templates.parquet"
    if templates.is_file():
        con.execute(
            f"CREATE OR REPLACE VIEW exchanges AS SELECT e.*, t.template_id "
            f"FROM read_parquet({parts}) e LEFT JOIN read_parquet({_lit(templates)}) t USING (exchange_id)"
        )
    else:
        con.execute(
            f"CREATE OR REPLACE VIEW exchanges AS "
            f"SELECT *, CAST(NULL AS VARCHAR) AS template_id FROM read_parquet({parts})"
        )
    accounts = store_dir / "accounts.parquet"
    if accounts.is_file():
        con.execute(f"CREATE OR REPLACE VIEW accounts AS SELECT * FROM read_parquet({_lit(accounts)})")
    else:
        con.register("_no_accounts", ACCOUNT_SCHEMA.empty_table())
        con.execute("CREATE OR REPLACE VIEW accounts AS SELECT * FROM _no_accounts")
    for name in ("account_features", "edges"):
        table_view(con, store_dir, name)


def table_view(con: duckdb.DuckDBPyConnection, store_dir: Path, name: str) -> None:
    """(Re)create the view of one single-file table (account_features, edges) when its file exists,
    touching no other view: safe while another connection reads the exchanges."""
    path = Path(store_dir) / f"{name}.parquet"
    if path.is_file():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({_lit(path)})")


def write_table(store_dir: Path, name: str, table: pa.Table) -> Path:
    """Write one of the store's single-file tables (templates, account_features, edges, ...)."""
    path = Path(store_dir) / f"{name}.parquet"
    pq.write_table(table, path, compression="zstd")
    return path


def finalize_exchanges(
    raw_dir: Path, exchanges_dir: Path, empty_schema: Callable[[], pa.Schema]
) -> tuple[int, int]:
    """Move the ingest parts into `exchanges_dir`, removing duplicates; return (kept, duplicates).
    `empty_schema()` gives the schema of the one empty part written when there is no part (asked
    for only then: the signals' schema costs their import).

    A duplicate is a row whose `exchange_id` (the record id, else its content hash) was already
    seen in an earlier part or earlier in the same part. DuckDB finds them from the id column alone,
    so memory does not grow with the rows' size; only parts holding duplicates are rewritten.
    """
    raw_dir, exchanges_dir = Path(raw_dir), Path(exchanges_dir)
    exchanges_dir.mkdir(parents=True, exist_ok=True)
    parts = sorted(raw_dir.glob("part-*.parquet"))
    if not parts:  # an empty store still has the schema, so the views work
        pq.write_table(empty_schema().empty_table(), exchanges_dir / "part-000000.parquet")
        shutil.rmtree(raw_dir, ignore_errors=True)
        return 0, 0
    con = _open(raw_dir.parent)
    glob = _lit(raw_dir / "part-*.parquet")
    total, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT exchange_id) FROM read_parquet({glob})"
    ).fetchone()
    if total != distinct:
        # Rows to drop, one part at a time (ordered like the parts), so memory stays per part.
        cursor = con.execute(
            f"""
            SELECT filename, list(file_row_number ORDER BY file_row_number) FROM (
              SELECT filename, file_row_number, row_number() OVER (
                PARTITION BY exchange_id ORDER BY filename, file_row_number) AS nth
              FROM read_parquet({glob}, filename = true, file_row_number = true)
            ) WHERE nth > 1 GROUP BY filename ORDER BY filename
            """
        )
        while row := cursor.fetchone():
            part = Path(row[0])
            table = pq.read_table(part)
            mask = np.ones(table.num_rows, dtype=bool)
            mask[row[1]] = False
            target = exchanges_dir / part.name
            write_exchange_part(table.filter(pa.array(mask)), target)
            part.unlink()
    con.close()
    for part in parts:  # parts without duplicates move as they are
        if part.exists():
            part.replace(exchanges_dir / part.name)
    shutil.rmtree(raw_dir, ignore_errors=True)
    return distinct, total - distinct
