"""Open a scan output directory for reading, and say clearly what is missing when it is incomplete.

The report, the STIX bundle and `match` all read the same directory that `distillguard scan --out`
writes. A directory written by an older version (or by hand) may lack files or columns; rather than
fail deep inside a query, `open_scan` checks the contract first and raises `ScanDirError` with one
line naming what is missing.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pandas as pd
import pyarrow.parquet as pq

from distillguard.outputs import ACCOUNT_COLUMNS, CLUSTER_COLUMNS  # required: the columns `scan` writes

# Exchange columns the report and the indicators read; the rest of the store is optional.
EXCHANGE_COLUMNS = (
    "exchange_id",
    "ts",
    "account_id",
    "model",
    "client_ip",
    "user_agent",
    "capability",
    "skeleton_hash",
    "user_text",
)
META_COLUMNS = ("email_domain", "payment_fingerprint")  # optional account record, for infrastructure
EDGE_COLUMNS = ("src", "dst", "kind", "weight", "evidence")

# IPv4 -> its /24, IPv6 -> its /48; both as CIDR strings, the unit the indicators share.
IP_PREFIX_SQL = (
    "CASE WHEN {col} LIKE '%:%' "
    "THEN array_to_string(list_slice(string_split({col}, ':'), 1, 3), ':') || '::/48' "
    "ELSE regexp_replace({col}, '\\.[0-9]+$', '') || '.0/24' END"
)


class ScanDirError(ValueError):
    """The directory is not a readable scan output; the message names what is missing."""


@dataclass
class Scan:
    """A scan directory opened for reading.

    `con` is a DuckDB connection with the views `exchanges` (with `template_id`), `exchange_rows`
    (the same rows as stored: without the join on store/templates.parquet that gives `exchanges` its
    `template_id`, for the queries that do not need it), `verdicts` (accounts.csv),
    `cluster_verdicts` (clusters.csv), and, when the store holds them, `account_meta`
    (store/accounts.parquet) and `edges` (store/edges.parquet).
    """

    path: Path
    summary: dict[str, Any]
    accounts: pd.DataFrame
    clusters: pd.DataFrame
    findings: list[dict[str, Any]]
    con: duckdb.DuckDBPyConnection
    has_edges: bool = False
    has_account_meta: bool = False
    notes: list[str] = field(default_factory=list)  # what was absent and what that costs the reader

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Scan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _hint(path: Path) -> str:
    return f"{path} is not a complete scan directory"


def _read_csv(path: Path, columns: tuple[str, ...], scan_path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ScanDirError(f"{_hint(scan_path)}: {path.name} is missing (run `distillguard scan --out DIR`)")
    with path.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])
    missing = [c for c in columns if c not in header]
    if missing:
        raise ScanDirError(
            f"{path} lacks column(s) {', '.join(missing)}: it was written by an older or foreign "
            "version; re-run `distillguard scan`"
        )
    df = pd.read_csv(
        path,
        dtype={"account_id": str, "cluster_id": str, "reasons": str, "capabilities": str},
        keep_default_na=False,
    )
    df["flagged"] = df["flagged"].map(_as_bool).astype(bool)
    df["risk"] = pd.to_numeric(df["risk"], errors="coerce").fillna(0.0)
    for col in ("exchanges", "accounts"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0).astype("int64")
    return df


def _as_bool(value: object) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes", "t"}


def _read_findings(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ScanDirError(f"{_hint(path.parent)}: findings.jsonl is missing")
    findings = []
    for n, line in enumerate(path.read_bytes().split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ScanDirError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
        if not isinstance(item, dict) or "subject_id" not in item or "detector" not in item:
            raise ScanDirError(f"{path}:{n}: not a finding (needs detector and subject_id)")
        item.setdefault("evidence", {})
        findings.append(item)
    return findings


def _parquet_columns(files: list[Path]) -> set[str]:
    return set(pq.read_schema(files[0]).names)


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def open_scan(scan_dir: Path | str, *, findings: bool = True) -> Scan:
    """Open `scan_dir` after checking its files and columns; raise ScanDirError when incomplete.

    `findings=False` leaves `Scan.findings` empty (the file must still exist): the STIX bundle and
    `match` do not read them, and parsing thousands of findings is most of the cost of opening."""
    path = Path(scan_dir)
    if not path.is_dir():
        raise ScanDirError(f"{path} is not a directory")
    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise ScanDirError(f"{_hint(path)}: summary.json is missing")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScanDirError(f"{summary_path}: not valid JSON ({exc.msg})") from None
    accounts = _read_csv(path / "accounts.csv", ACCOUNT_COLUMNS, path)
    clusters = _read_csv(path / "clusters.csv", CLUSTER_COLUMNS, path)
    if findings:
        found = _read_findings(path / "findings.jsonl")
    elif (path / "findings.jsonl").is_file():
        found = []
    else:
        raise ScanDirError(f"{_hint(path)}: findings.jsonl is missing")

    store = path / "store"
    parts = sorted((store / "exchanges").glob("*.parquet")) if (store / "exchanges").is_dir() else []
    if not parts:
        raise ScanDirError(
            f"{_hint(path)}: store/exchanges/*.parquet is missing (the scan kept no store; "
            "re-run `distillguard scan` with this version)"
        )
    columns = _parquet_columns(parts)
    templates = store / "templates.parquet"
    if "template_id" not in columns and templates.is_file():
        columns.add("template_id")
    missing = [c for c in (*EXCHANGE_COLUMNS, "template_id") if c not in columns]
    if missing:
        raise ScanDirError(
            f"{store / 'exchanges'} lacks column(s) {', '.join(missing)}: written by an "
            "older version; re-run `distillguard scan`"
        )

    con = duckdb.connect()
    glob = _sql_path(store / "exchanges" / "*.parquet")
    con.execute(f"CREATE VIEW exchange_rows AS SELECT * FROM read_parquet('{glob}', union_by_name=true)")
    if "template_id" in _parquet_columns(parts):
        con.execute("CREATE VIEW exchanges AS SELECT * FROM exchange_rows")
    else:
        con.execute(
            "CREATE VIEW exchanges AS SELECT x.*, t.template_id FROM exchange_rows x "
            f"LEFT JOIN read_parquet('{_sql_path(templates)}') t USING (exchange_id)"
        )
    con.register("verdicts", accounts)
    con.register("cluster_verdicts", clusters)
    scan = Scan(path=path, summary=summary, accounts=accounts, clusters=clusters, findings=found, con=con)

    meta = store / "accounts.parquet"
    meta_columns = set(pq.read_schema(meta).names) if meta.is_file() else set()
    if {"account_id", *META_COLUMNS} <= meta_columns:
        con.execute(f"CREATE VIEW account_meta AS SELECT * FROM read_parquet('{_sql_path(meta)}')")
        scan.has_account_meta = True
    elif meta_columns:
        lacking = ", ".join(sorted({"account_id", *META_COLUMNS} - meta_columns))
        scan.notes.append(
            f"store/accounts.parquet lacks {lacking}: no payment or e-mail infrastructure shown"
        )
    else:
        scan.notes.append("store/accounts.parquet is absent: no payment or e-mail infrastructure shown")
    edges = store / "edges.parquet"
    if edges.is_file():
        have = set(pq.read_schema(edges).names)
        lacking = [c for c in EDGE_COLUMNS if c not in have]
        if lacking:
            raise ScanDirError(f"{edges} lacks column(s) {', '.join(lacking)}: written by an older version")
        con.execute(f"CREATE VIEW edges AS SELECT * FROM read_parquet('{_sql_path(edges)}')")
        scan.has_edges = True
    else:
        scan.notes.append("store/edges.parquet is absent: no linkage graph or link reasons shown")
    return scan
