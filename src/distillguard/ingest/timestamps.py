"""Timestamps of exchange and account records: RFC 3339 strings or epoch numbers, to UTC."""

from __future__ import annotations

from datetime import UTC, datetime

# Epoch numbers are told apart by magnitude: seconds until ~5138, then milli-, then microseconds.
_MS_FROM = 1e11
_US_FROM = 1e14

TIMESTAMP_FORMATS = ("auto", "rfc3339", "epoch_s", "epoch_ms", "epoch_us")
_TEXT_FORMATS = ("auto", "rfc3339")  # formats that read strings with fromisoformat


class TimestampError(ValueError):
    """The value is not a timestamp in the expected format."""


def parse_ts(value: object, fmt: str = "auto") -> datetime:
    """Return the UTC instant of `value`.

    `fmt` is "auto" (RFC 3339 / ISO 8601 strings, epoch numbers by magnitude), "rfc3339",
    "epoch_s", "epoch_ms", "epoch_us", or a `strptime` pattern (containing "%"). Strings without
    an offset are taken as UTC. Raises TimestampError on anything else.
    """
    if type(value) is str and fmt in _TEXT_FORMATS:  # the common case first: a logged RFC 3339 string
        return _from_text(value.strip(), fmt)
    if isinstance(value, datetime):
        return _to_utc(value)
    if isinstance(value, bool) or value is None:
        raise TimestampError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        if fmt in ("rfc3339",) or "%" in fmt:
            raise TimestampError(f"number {value!r} where an {fmt} string is expected")
        return _from_epoch(float(value), fmt)
    if not isinstance(value, str):
        raise TimestampError(f"not a timestamp: {type(value).__name__}")
    text = value.strip()
    if "%" in fmt:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError as exc:
            raise TimestampError(f"{text[:40]!r} does not match {fmt!r}") from exc
        return _to_utc(parsed)
    if fmt.startswith("epoch_"):
        try:
            return _from_epoch(float(text), fmt)
        except ValueError as exc:
            raise TimestampError(f"not an epoch number: {text[:40]!r}") from exc
    return _from_text(text, fmt)


def _from_text(text: str, fmt: str) -> datetime:
    """An RFC 3339 / ISO 8601 string (or, for "auto", an epoch number written as text)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        if fmt == "auto" and _looks_numeric(text):
            return _from_epoch(float(text), fmt)
        raise TimestampError(f"not an RFC 3339 timestamp: {text[:40]!r}") from exc
    return _to_utc(parsed)


def _to_utc(moment: datetime) -> datetime:
    """Strings and datetimes without an offset are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _from_epoch(number: float, fmt: str) -> datetime:
    if number != number or number in (float("inf"), float("-inf")):
        raise TimestampError("epoch value is not finite")
    if fmt == "epoch_ms" or (fmt == "auto" and _MS_FROM <= abs(number) < _US_FROM):
        number /= 1e3
    elif fmt == "epoch_us" or (fmt == "auto" and abs(number) >= _US_FROM):
        number /= 1e6
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise TimestampError(f"epoch value out of range: {number!r}") from exc
