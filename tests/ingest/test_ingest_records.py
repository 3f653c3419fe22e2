"""normalize_lines(): one batch of raw lines -> rows + explained rejects, never an exception."""

from __future__ import annotations

import orjson
import pytest
from ingest_builders import chat_request, chat_response, dumps, record

from distillguard.ingest import normalize_lines
from distillguard.ingest.timestamps import TimestampError, parse_ts
from distillguard.schema import EXCHANGE_SCHEMA


def _reasons(lines: list[bytes]) -> list[str]:
    table, rejects = normalize_lines(list(enumerate(lines, 1)), "in.jsonl")
    assert table.num_rows + len(rejects) == sum(1 for x in lines if x.strip())
    return [r["reason"] for r in rejects]


def test_good_record_becomes_one_row_with_the_contract_schema() -> None:
    table, rejects = normalize_lines([(7, dumps(record(1)))], "in.jsonl")
    assert rejects == [] and table.schema == EXCHANGE_SCHEMA
    row = table.to_pylist()[0]
    assert (row["exchange_id"], row["source"], row["line"], row["account_id"]) == (
        "ex-1",
        "in.jsonl",
        7,
        "acct-1",
    )
    assert row["ts"].isoformat() == "2026-03-01T00:00:01+00:00"
    assert (row["status"], row["latency_ms"], row["flavor"]) == (200, 812.5, "anthropic_messages")


def test_bodies_logged_as_json_text_read_like_objects() -> None:
    as_object = record(1, request=chat_request(temperature=0.2), response=chat_response())
    as_text = dict(
        as_object, request=dumps(as_object["request"]).decode(), response=dumps(chat_response()).decode()
    )
    table, rejects = normalize_lines([(1, dumps(as_object)), (2, dumps(as_text))], "in.jsonl")
    assert rejects == []
    rows = table.drop_columns(["line", "content_hash"]).to_pylist()
    assert rows[0] == rows[1]
    assert (rows[1]["flavor"], rows[1]["user_text"], rows[1]["output_tokens"]) == (
        "openai_chat",
        "Write a sort function.",
        30,
    )


def test_json_text_that_is_not_an_object_is_still_rejected() -> None:
    base = {"ts": "2026-03-01T00:00:00Z", "account_id": "a"}
    lines = [dumps(dict(base, request=text)) for text in ("[1, 2]", "42", '"{}"', "{not json")]
    assert _reasons(lines) == ["request_not_object"] * 4
    # JSON text nested past the parser's limit is said to be too deep, as a raw record would be
    assert _reasons([dumps(dict(base, request='{"a": ' * 2000 + "1" + "}" * 2000))]) == ["too_deep"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"id": "x", "ts": "2026-03-01T00:00:00Z", "account_id": "a", "req', "invalid_json"),
        (b"this is not json", "invalid_json"),
        (b"[1, 2, 3]", "not_object"),
        (b'"a string"', "not_object"),
        (b'{"ts": "2026-03-01T00:00:00Z", "account_id": "caf\xe9", "request": {}}', "invalid_utf8"),
        (b'{"ts": "2026-03-01T00:00:00Z", "account_id": "a\x00", "request": {}}', "nul_byte"),
        (dumps({"account_id": "a", "request": {}}), "missing_timestamp"),
        (dumps({"ts": "yesterday", "account_id": "a", "request": {}}), "bad_timestamp"),
        (dumps({"ts": "2026-03-01T00:00:00Z", "request": {}}), "missing_account"),
        (dumps({"ts": "2026-03-01T00:00:00Z", "account_id": "", "request": {}}), "missing_account"),
        (dumps({"ts": "2026-03-01T00:00:00Z", "account_id": {"x": 1}, "request": {}}), "bad_account"),
        (dumps({"ts": "2026-03-01T00:00:00Z", "account_id": "a"}), "missing_request"),
        (dumps({"ts": "2026-03-01T00:00:00Z", "account_id": "a", "request": "hi"}), "request_not_object"),
        (b"[" * 2000 + b"]" * 2000, "too_deep"),
    ],
)
def test_each_bad_record_is_rejected_with_its_reason(line: bytes, reason: str) -> None:
    table, rejects = normalize_lines([(3, dumps(record(1))), (4, line)], "bad.jsonl")
    assert table.num_rows == 1
    assert rejects == [{"source": "bad.jsonl", "line": 4, "reason": reason, "detail": rejects[0]["detail"]}]


def test_deeply_nested_object_record_is_a_reject_not_a_crash() -> None:
    # orjson itself refuses to serialize this depth: build the text by hand
    line = (
        b'{"ts": "2026-03-01T00:00:00Z", "account_id": "a", "request": '
        + b'{"n": ' * 1100
        + b"1"
        + b"}" * 1101
    )
    assert _reasons([line]) == ["too_deep"]


def test_nesting_within_the_limit_is_accepted() -> None:
    nested: object = "leaf"
    for _ in range(200):
        nested = {"n": nested}
    rec = record(1, request=chat_request(metadata=nested))
    assert _reasons([dumps(rec)]) == []


def test_bom_crlf_whitespace_and_blank_lines_are_not_errors() -> None:
    lines = [b"\xef\xbb\xbf" + dumps(record(1)) + b"\r", b"", b"   \t", dumps(record(2)) + b"\r"]
    table, rejects = normalize_lines(list(enumerate(lines, 1)), "x")
    assert rejects == [] and table["line"].to_pylist() == [1, 4]


def test_records_of_several_megabytes() -> None:
    big = "word " * 800_000  # 4 MB of prompt
    rec = record(
        1, request=chat_request(messages=[{"role": "user", "content": big}]), response=chat_response()
    )
    table, rejects = normalize_lines([(1, dumps(rec))], "x")
    assert rejects == [] and len(table["user_text"][0].as_py()) == len(big)


def test_exchange_id_is_the_record_id_else_a_content_hash() -> None:
    no_id = record(1)
    del no_id["id"]
    other = dict(no_id, latency_ms=1.0)
    table, _ = normalize_lines([(1, dumps(no_id)), (2, dumps(no_id)), (3, dumps(other))], "x")
    ids = table["exchange_id"].to_pylist()
    assert ids[0] == ids[1] != ids[2]
    assert ids == table["content_hash"].to_pylist()


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2026-03-01T12:00:00Z", "2026-03-01T12:00:00+00:00"),
        ("2026-03-01T12:00:00.123456+02:00", "2026-03-01T10:00:00.123456+00:00"),
        ("2026-03-01 12:00:00", "2026-03-01T12:00:00+00:00"),
        (1772366400, "2026-03-01T12:00:00+00:00"),
        (1772366400000, "2026-03-01T12:00:00+00:00"),
        ("1772366400.5", "2026-03-01T12:00:00.500000+00:00"),
    ],
)
def test_timestamps_rfc3339_with_offsets_and_epochs(value: object, iso: str) -> None:
    assert parse_ts(value).isoformat() == iso


def test_timestamp_formats_are_enforced_when_declared() -> None:
    assert parse_ts("1772366400000", "epoch_ms").isoformat() == "2026-03-01T12:00:00+00:00"
    assert parse_ts(" 2026-03-01T14:00:00+02:00 ", "rfc3339").isoformat() == "2026-03-01T12:00:00+00:00"
    assert parse_ts("01/03/2026 12:00", "%d/%m/%Y %H:%M").isoformat() == "2026-03-01T12:00:00+00:00"
    for value, fmt in (
        (1772366400, "rfc3339"),
        ("1772366400", "rfc3339"),
        ("soon", "auto"),
        (True, "auto"),
        (float("nan"), "auto"),
    ):
        with pytest.raises(TimestampError):
            parse_ts(value, fmt)


def test_reject_detail_is_bounded_and_json_serializable() -> None:
    _, rejects = normalize_lines([(1, b"{" + b'"a":' * 5000)], "x")
    assert len(rejects[0]["detail"]) <= 300
    orjson.dumps(rejects[0])


def test_numbers_out_of_column_range_become_null_not_a_crash() -> None:
    line = dumps(record(1, request=chat_request(max_tokens=-987654, temperature=1e300), status=99999999999))
    line = line.replace(b"-987654", b"123456789012345678901234567890")  # beyond what orjson writes
    table, rejects = normalize_lines([(1, line)], "x")
    row = table.to_pylist()[0]
    assert rejects == [] and (row["max_tokens"], row["status"], row["temperature"]) == (None, None, 1e300)


def test_a_row_no_column_can_hold_is_rejected_and_the_batch_kept() -> None:
    from distillguard.ingest.records import RowBuffer, _to_table, to_row

    rows = RowBuffer()
    rows.add(to_row(record(1), None, "h1"), "x", 1)
    bad = to_row(record(2), None, "h2")
    bad["turns"] = 1 << 40  # no int32 holds it
    rows.add(bad, "x", 2)
    rejects: list[dict] = []
    table = _to_table(rows, rejects)
    assert table["line"].to_pylist() == [1]
    assert [(r["line"], r["reason"]) for r in rejects] == [(2, "bad_field")]
