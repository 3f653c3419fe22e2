"""Exchange records -> normalized exchange rows, one batch at a time.

`normalize_lines` is the map step's first half: pure, per batch, used by the embedded engine and
by Spark's mapInArrow alike. Every line that is not a blank line becomes either a row or a reject
with a reason code (see `REJECT_REASONS` and docs/data-contracts.md); nothing is dropped silently.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa
import xxhash

from distillguard.ingest.parse_body import as_int, decode_body, extract
from distillguard.ingest.timestamps import TimestampError, parse_ts
from distillguard.schema import EXCHANGE_SCHEMA

if TYPE_CHECKING:  # the mappings' validation (pydantic) loads only when a mapping is used
    from distillguard.ingest.mapping import FieldMapping

BOM = b"\xef\xbb\xbf"
NUL = b"\x00"
MAPPED = "mapped"

REJECT_REASONS: dict[str, str] = {
    "invalid_json": "the line is not valid JSON (truncated or malformed)",
    "invalid_utf8": "the line is not valid UTF-8",
    "nul_byte": "the line contains a NUL byte",
    "too_deep": "the record nests deeper than the JSON parser allows (1024 levels)",
    "not_object": "the record is valid JSON but not an object",
    "missing_timestamp": "the record has no `ts`",
    "bad_timestamp": "the record's `ts` is not an RFC 3339 timestamp or epoch number",
    "missing_account": "the record has no `account_id`",
    "bad_account": "the record's `account_id` is not a string or integer",
    "missing_request": "the record has no `request` body",
    "request_not_object": "the record's `request` is not a JSON object",
    "mapping_error": "the field mapping could not be applied to the record",
    "unreadable_row": "a Parquet row could not be converted to a record",
    "bad_field": "a field holds a value its column cannot store, or of the wrong type",
    "unreadable_data": "the rest of a file could not be read (corrupt or truncated compression)",
}

_STR_FIELDS = ("api_key_id", "client_ip", "asn", "user_agent", "client_fp")
_OVERRIDES = ("input_tokens", "output_tokens", "reasoning_tokens", "response_chars", "reasoning_chars")
_COLUMNS = [f.name for f in EXCHANGE_SCHEMA]
_IN_SCHEMA_ORDER = operator.itemgetter(*_COLUMNS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class Rejected(Exception):
    """A record that cannot become an exchange row: `reason` is a REJECT_REASONS code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def content_hash(raw: bytes) -> str:
    """Hash of a record's bytes: equal records (duplicates) hash equal."""
    return xxhash.xxh3_128_hexdigest(raw)


def _too_deep(exc: orjson.JSONDecodeError) -> bool:
    message = str(exc)
    return "depth limit" in message or "recursion" in message


def parse_line(raw: bytes) -> dict:
    """Parse one JSON Lines record, or raise Rejected saying why it is not one."""
    if NUL in raw:
        raise Rejected("nul_byte", f"NUL byte at offset {raw.index(NUL)}")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message = str(exc)
        if _too_deep(exc):
            raise Rejected("too_deep", message) from None
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as uexc:
            raise Rejected("invalid_utf8", f"invalid UTF-8 at byte {uexc.start}") from None
        if exc.pos >= len(raw.rstrip()) - 1 or "end of data" in message:
            message = f"truncated record: {message}"
        raise Rejected("invalid_json", message) from None
    if not isinstance(obj, dict):
        raise Rejected("not_object", f"JSON {type(obj).__name__} instead of an object")
    return obj


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _account(value: Any) -> str:
    if value is None or value == "":
        raise Rejected("missing_account")
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise Rejected("bad_account", f"account_id is a {type(value).__name__}")


def _ts(value: Any, fmt: str) -> datetime:
    if value is None or value == "":
        raise Rejected("missing_timestamp")
    try:
        return parse_ts(value, fmt)
    except TimestampError as exc:
        raise Rejected("bad_timestamp", str(exc)) from None


def _float(value: Any) -> float | None:
    if type(value) is float:  # the common case, checked first: bool and subclasses take the full path
        return value
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def to_row(record: dict, mapping: FieldMapping | None, digest: str) -> dict[str, Any]:
    """One record (contract layout, or the source layout of `mapping`) -> one exchange row.

    `digest` is the record's content hash; it becomes the exchange id when the record has no id.
    Raises Rejected when the record breaks the contract.
    """
    fmt = "auto"
    if mapping is not None:
        fmt = mapping.timestamp_format
        try:
            record = mapping.to_record(record)
        except Exception as exc:  # a mapping applied to a record of another shape
            raise Rejected("mapping_error", f"{type(exc).__name__}: {exc}") from None
    ts = _ts(record.get("ts"), fmt)
    account = _account(record.get("account_id"))
    request = decode_body(record.get("request"))
    if request is None:
        raise Rejected("missing_request")
    if not isinstance(request, dict):
        if isinstance(request, str | bytes):  # JSON text that did not decode: say why when too deep
            try:
                orjson.loads(request)
            except orjson.JSONDecodeError as exc:
                if _too_deep(exc):
                    raise Rejected("too_deep", f"request: {exc}") from None
        raise Rejected("request_not_object", f"request is a {type(request).__name__}")
    response = decode_body(record.get("response"))
    row = extract(request, response)
    if request.get("_mapped"):
        row["flavor"] = MAPPED
    rid = record.get("id")
    row["exchange_id"] = _text(rid) or digest
    row["content_hash"] = digest
    row["ts"] = ts
    row["account_id"] = account
    for name in _STR_FIELDS:
        row[name] = _text(record.get(name))
    row["status"] = as_int(record.get("status"), bits=32)
    row["latency_ms"] = _float(record.get("latency_ms"))
    if mapping is not None:
        for name in _OVERRIDES:
            value = as_int(record.get(name))
            if value is not None:
                row[name] = value
    return row


class RowBuffer:
    """Collects exchange rows and hands them out as an Arrow table (columns in schema order)."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, row: dict[str, Any], source: str, line: int) -> None:
        row["source"] = source
        row["line"] = line
        self.rows.append(_IN_SCHEMA_ORDER(row))  # one C-level call instead of a loop per column

    def __len__(self) -> int:
        return len(self.rows)

    def table(self) -> pa.Table:
        if not self.rows:
            return EXCHANGE_SCHEMA.empty_table()
        arrays = []
        for fld, values in zip(EXCHANGE_SCHEMA, zip(*self.rows, strict=True), strict=True):
            if fld.name == "ts":  # aware datetimes convert slowly; integer microseconds do not
                micros = [(v - _EPOCH) // _MICROSECOND for v in values]
                arrays.append(pa.array(micros, pa.int64()).cast(fld.type))
            else:
                arrays.append(pa.array(values, fld.type))
        return pa.Table.from_arrays(arrays, schema=EXCHANGE_SCHEMA)


_SOURCE, _LINE = _COLUMNS.index("source"), _COLUMNS.index("line")
_CONVERSION_ERRORS = (pa.ArrowException, OverflowError, ValueError, TypeError)


def _to_table(rows: RowBuffer, rejects: list[dict[str, Any]]) -> pa.Table:
    """The batch as a table; a row holding a value no column can store becomes a reject."""
    try:
        return rows.table()
    except _CONVERSION_ERRORS:
        pass  # rare: find the offending rows one by one, keep the others
    good = RowBuffer()
    for row in rows.rows:
        single = RowBuffer()
        single.rows.append(row)
        try:
            single.table()
        except _CONVERSION_ERRORS as exc:
            rejects.append(reject(row[_SOURCE], row[_LINE], "bad_field", f"{type(exc).__name__}: {exc}"))
            continue
        good.rows.append(row)
    rejects.sort(key=lambda r: r["line"])
    return good.table()


def reject(source: str, line: int, reason: str, detail: str = "") -> dict[str, Any]:
    """A reject row (REJECT_SCHEMA)."""
    return {"source": source, "line": line, "reason": reason, "detail": detail[:300]}


def normalize_lines(
    lines: Iterable[tuple[int, bytes]], source: str, mapping: FieldMapping | None = None
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Raw JSON Lines (line number, bytes) -> (exchange rows with EXCHANGE_SCHEMA, rejects).

    Blank lines are not records and give neither. A BOM, CR line ends and surrounding whitespace
    are tolerated. Duplicates are not removed here (they may span batches); rows carry
    `exchange_id` and `content_hash` so that the store can remove them.
    """
    rows = RowBuffer()
    rejects: list[dict[str, Any]] = []
    for line, raw in lines:
        if raw.startswith(BOM):
            raw = raw[3:]
        raw = raw.strip()
        if not raw:
            continue
        try:
            record = parse_line(raw)
            rows.add(to_row(record, mapping, content_hash(raw)), source, line)
        except Rejected as exc:
            rejects.append(reject(source, line, exc.reason, exc.detail))
    return _to_table(rows, rejects), rejects


def normalize_records(
    records: Iterable[tuple[int, dict | None, str]], source: str, mapping: FieldMapping | None = None
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Already-parsed records (row number, record or None when unreadable, content hash) -> rows.

    The Parquet path: same contract and rejects as `normalize_lines`.
    """
    rows = RowBuffer()
    rejects: list[dict[str, Any]] = []
    for line, record, digest in records:
        try:
            if record is None:
                raise Rejected("unreadable_row", digest)
            rows.add(to_row(record, mapping, digest), source, line)
        except Rejected as exc:
            rejects.append(reject(source, line, exc.reason, exc.detail))
    return _to_table(rows, rejects), rejects
