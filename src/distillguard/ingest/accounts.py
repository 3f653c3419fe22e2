"""The optional accounts file: account records (JSON Lines or Parquet) joined by `account_id`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from distillguard.ingest.paths import expand_paths
from distillguard.ingest.records import Rejected, parse_line, reject
from distillguard.ingest.sources import iter_line_batches, iter_parquet_batches
from distillguard.ingest.timestamps import TimestampError, parse_ts
from distillguard.schema import ACCOUNT_SCHEMA

_TEXT_FIELDS = ("org_id", "tier", "email_domain", "payment_fingerprint", "country")
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f", ""}


def _bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise Rejected("bad_field", f"verified is {value!r}, not a boolean")


def account_row(record: dict) -> dict[str, Any]:
    """One account record -> one ACCOUNT_SCHEMA row; raises Rejected when it breaks the contract."""
    account = record.get("account_id")
    if account is None or account == "":
        raise Rejected("missing_account")
    if isinstance(account, int) and not isinstance(account, bool):
        account = str(account)
    if not isinstance(account, str):
        raise Rejected("bad_account", f"account_id is a {type(account).__name__}")
    created = record.get("created_at")
    if created is not None and created != "":
        try:
            created = parse_ts(created)
        except TimestampError as exc:
            raise Rejected("bad_timestamp", f"created_at: {exc}") from None
    else:
        created = None
    row: dict[str, Any] = {"account_id": account, "created_at": created}
    for name in _TEXT_FIELDS:
        value = record.get(name)
        row[name] = None if value is None else str(value)
    if row["tier"] is not None:
        row["tier"] = row["tier"].strip().lower()
    row["verified"] = _bool(record.get("verified"))
    return row


def read_accounts(
    path: str | Path, on_reject: Callable[[dict[str, Any]], None] | None = None
) -> tuple[pa.Table, int]:
    """Read an accounts file into an ACCOUNT_SCHEMA table, one row per account_id.

    Returns (table, rejected). Each rejected record is passed to `on_reject` as a reject row
    (source, line, reason, detail). When an account appears twice, the later record wins (an
    accounts export appended over time). Raises SourceError when the path cannot be read.
    """
    rows: dict[str, dict[str, Any]] = {}
    rejected = 0

    def _bad(source: str, line: int, exc: Rejected) -> None:
        nonlocal rejected
        rejected += 1
        if on_reject is not None:
            on_reject(reject(source, line, exc.reason, exc.detail))

    for source in expand_paths([path]):
        label = str(source.path)
        if source.kind == "parquet":
            for first, batch in iter_parquet_batches(source):
                for offset, record in enumerate(batch.to_pylist()):
                    try:
                        row = account_row(record)
                    except Rejected as exc:
                        _bad(label, first + offset, exc)
                        continue
                    rows[row["account_id"]] = row
            continue
        for batch in iter_line_batches(source):
            for line, raw in batch:
                try:
                    row = account_row(parse_line(raw.strip().removeprefix(b"\xef\xbb\xbf")))
                except Rejected as exc:
                    _bad(label, line, exc)
                    continue
                rows[row["account_id"]] = row
    table = pa.Table.from_pylist(list(rows.values()), schema=ACCOUNT_SCHEMA)
    return table, rejected


def empty_accounts() -> pa.Table:
    """An accounts table with no rows (a scan from exchanges alone)."""
    return ACCOUNT_SCHEMA.empty_table()
