"""ingest_paths(): files, compression, Parquet, duplicates, accounts, strict mode, the invariant."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from ingest_builders import chat_request, chat_response, dumps, record, write_lines

from distillguard.ingest import SourceError, StrictModeError, ingest_paths
from distillguard.schema import ACCOUNT_SCHEMA, EXCHANGE_SCHEMA
from distillguard.store import connect

GLASSWALLY = Path(__file__).resolve().parents[3] / "shared" / "peers" / "glasswally_labeled_5k.jsonl"


def _ingest(tmp_path: Path, paths: list, **kw) -> tuple:
    report = ingest_paths(paths, tmp_path / "store", with_signals=False, **kw)
    assert report.exchanges + report.rejected + report.duplicates == report.input_records
    con = connect(tmp_path / "store")
    return report, con


def _mixed(tmp_path: Path) -> Path:
    """13 distinct records, 3 repeats (2 exact, 1 by id), 3 bad lines, blank lines, no final newline."""
    good = [dumps(record(i, account=f"acct-{i % 3}")) for i in range(12)]
    no_id = record(99)
    del no_id["id"]
    lines = [
        *good,
        b"",
        good[0],  # exact repeat (same id)
        dumps(dict(record(5), latency_ms=1.0)),  # same id, different content: still a duplicate
        dumps(no_id),
        dumps(no_id),  # repeat of a record without id: same content hash
        b"{truncated",
        b"[]",
        dumps({"account_id": "a", "request": {}}),
        b"   ",
    ]
    return write_lines(tmp_path / "mixed.jsonl", lines, final_newline=False)


def test_counts_duplicates_and_rejects_and_keeps_the_invariant(tmp_path: Path) -> None:
    report, con = _ingest(tmp_path, [_mixed(tmp_path)])
    assert (report.input_records, report.exchanges, report.rejected, report.duplicates) == (19, 13, 3, 3)
    assert report.reject_reasons == {"invalid_json": 1, "not_object": 1, "missing_timestamp": 1}
    assert con.execute("SELECT count(*), count(DISTINCT exchange_id) FROM exchanges").fetchone() == (13, 13)
    # the first occurrence is the one kept
    assert con.execute("SELECT latency_ms FROM exchanges WHERE exchange_id = 'ex-5'").fetchone() == (812.5,)
    rejects = [orjson.loads(x) for x in report.rejects_path.read_bytes().splitlines()]
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (18, "invalid_json"),
        (19, "not_object"),
        (20, "missing_timestamp"),
    ]
    assert all(r["source"].endswith("mixed.jsonl") for r in rejects)


def test_duplicates_across_files_and_batches_in_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("distillguard.ingest.loader.BATCH_RECORDS", 64)  # many batches, two workers
    lines = [dumps(record(i, account=f"acct-{i % 7}")) for i in range(300)]
    a = write_lines(tmp_path / "a.jsonl", lines)
    b = write_lines(tmp_path / "b.jsonl", [*lines[100:], dumps(record(1000))])
    report, con = _ingest(tmp_path, [a, b], workers=2)
    assert (report.input_records, report.exchanges, report.duplicates) == (501, 301, 200)
    assert con.execute("SELECT count(DISTINCT exchange_id) FROM exchanges").fetchone() == (301,)


def test_gzip_zstd_directories_and_globs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "day2").mkdir(parents=True)
    plain = b"\n".join(dumps(record(i)) for i in range(3)) + b"\n"
    (logs / "a.jsonl").write_bytes(plain)
    (logs / "day2" / "b.jsonl.gz").write_bytes(
        gzip.compress(b"\n".join(dumps(record(i)) for i in range(3, 6)))
    )
    zst = zstandard.ZstdCompressor().compress(b"\n".join(dumps(record(i)) for i in range(6, 9)))
    (logs / "day2" / "c.jsonl.zst").write_bytes(zst)
    (logs / "notes.txt").write_text("not a log")  # ignored inside a directory
    report, _ = _ingest(tmp_path, [logs])
    assert (report.exchanges, report.rejected, len(report.sources)) == (9, 0, 3)
    report, _ = _ingest(tmp_path, [str(logs / "day*" / "*.jsonl*")])
    assert (report.exchanges, len(report.sources)) == (6, 2)


def test_unreadable_and_wrong_type_paths_raise_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        ingest_paths([tmp_path / "missing.jsonl"], tmp_path / "store", with_signals=False)
    png = tmp_path / "image.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(SourceError, match="not an exchange log"):
        ingest_paths([png], tmp_path / "store", with_signals=False)
    with pytest.raises(SourceError, match="no file matches"):
        ingest_paths([str(tmp_path / "*.jsonl")], tmp_path / "store", with_signals=False)


def test_a_file_that_breaks_off_keeps_what_was_read_and_explains_the_rest(tmp_path: Path) -> None:
    data = gzip.compress(b"\n".join(dumps(record(i)) for i in range(400)))
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(data[: len(data) // 2])  # a log rotated while it was written
    good = write_lines(tmp_path / "good.jsonl", [dumps(record(1000))])
    report, _ = _ingest(tmp_path, [broken, good])
    assert report.rejects[-1]["reason"] == "unreadable_data" and report.rejected == 1
    assert 0 < report.exchanges - 1 < 400  # part of the broken file, and all of the next one
    assert report.rejects[-1]["line"] == report.exchanges  # the first line not read


def test_strict_stops_at_the_first_bad_record(tmp_path: Path) -> None:
    path = _mixed(tmp_path)
    with pytest.raises(StrictModeError, match=r"mixed\.jsonl:18: invalid_json"):
        ingest_paths([path], tmp_path / "store", with_signals=False, strict=True)


def test_parquet_with_struct_bodies_and_with_json_text_bodies(tmp_path: Path) -> None:
    recs = [record(i, request=chat_request(), response=chat_response()) for i in range(4)]
    recs[1]["request"] = chat_request(
        temperature=0.5, tools=[{"type": "function", "function": {"name": "f"}}]
    )
    pq.write_table(pa.Table.from_pylist(recs), tmp_path / "struct.parquet")
    as_text = [
        dict(r, request=orjson.dumps(r["request"]).decode(), response=orjson.dumps(r["response"]).decode())
        for r in recs
    ]
    as_text[3]["request"] = "{not json"
    as_text[2]["id"] = "other"
    pq.write_table(pa.Table.from_pylist(as_text), tmp_path / "text.parquet")
    report, con = _ingest(tmp_path, [tmp_path / "struct.parquet", tmp_path / "text.parquet"])
    # text.parquet: rows 1-2 repeat struct.parquet's ids, row 3 is new, row 4 has a broken body
    assert (report.input_records, report.exchanges, report.duplicates, report.rejected) == (8, 5, 2, 1)
    assert report.rejects[0]["reason"] == "request_not_object" and report.rejects[0]["line"] == 4
    rows = con.execute(
        "SELECT flavor, user_text, tool_count, temperature FROM exchanges ORDER BY exchange_id"
    ).fetchall()
    # struct columns fill absent keys with nulls; they must not change the flavour or the columns
    assert rows[0] == ("openai_chat", "Write a sort function.", 0, None)
    assert rows[1] == ("openai_chat", "Write a sort function.", 1, 0.5)


def test_accounts_file_is_joined_and_its_bad_rows_explained(tmp_path: Path) -> None:
    log = write_lines(tmp_path / "x.jsonl", [dumps(record(1, account="acct-1"))])
    accounts = write_lines(
        tmp_path / "accounts.jsonl",
        [
            dumps(
                {
                    "account_id": "acct-1",
                    "created_at": "2026-01-02T00:00:00Z",
                    "tier": "Education",
                    "verified": "yes",
                }
            ),
            dumps({"account_id": "acct-2", "payment_fingerprint": "pm_1", "verified": False}),
            dumps({"created_at": "2026-01-02T00:00:00Z"}),
            b"{oops",
        ],
    )
    report, con = _ingest(tmp_path, [log], accounts=accounts)
    assert (report.account_records, report.accounts_rejected, report.rejected) == (2, 2, 0)
    table = pq.read_table(tmp_path / "store" / "accounts.parquet")
    assert table.schema == ACCOUNT_SCHEMA
    row = con.execute(
        "SELECT a.tier, a.verified FROM exchanges e JOIN accounts a USING (account_id)"
    ).fetchone()
    assert row == ("education", True)
    reasons = [orjson.loads(x)["reason"] for x in report.rejects_path.read_bytes().splitlines()]
    assert reasons == ["missing_account", "invalid_json"]


def test_no_accounts_file_gives_an_empty_accounts_view(tmp_path: Path) -> None:
    _, con = _ingest(tmp_path, [write_lines(tmp_path / "x.jsonl", [dumps(record(1))])])
    assert con.execute("SELECT count(*) FROM accounts").fetchone() == (0,)


def test_an_input_without_any_good_record_gives_an_empty_store(tmp_path: Path) -> None:
    report, con = _ingest(tmp_path, [write_lines(tmp_path / "x.jsonl", [b"nope", b"", b"[]"])])
    assert (report.input_records, report.exchanges, report.rejected) == (2, 0, 2)
    assert con.execute("SELECT count(*) FROM exchanges").fetchone() == (0,)
    assert [c[0] for c in con.execute("DESCRIBE exchanges").fetchall()][
        : len(EXCHANGE_SCHEMA)
    ] == EXCHANGE_SCHEMA.names


@pytest.mark.skipif(not GLASSWALLY.is_file(), reason="peer data set not present")
def test_glasswally_layout_through_the_builtin_mapping(tmp_path: Path) -> None:
    from distillguard.ingest import load_mapping

    report, con = _ingest(tmp_path, [GLASSWALLY], mapping=load_mapping("glasswally"))
    assert (report.input_records, report.exchanges, report.rejected) == (5000, 5000, 0)
    flavors, accounts, asn, system = con.execute(
        "SELECT list(DISTINCT flavor), count(DISTINCT account_id), min(asn), count(system_text) "
        "FROM exchanges"
    ).fetchone()
    assert flavors == ["mapped"] and accounts == 231
    assert asn.startswith("AS") and system > 0


def test_parquet_with_a_timestamp_column_and_accounts_in_parquet(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    recs = [dict(record(i), ts=datetime(2026, 3, 1, 12, i, tzinfo=UTC)) for i in range(3)]
    pq.write_table(pa.Table.from_pylist(recs), tmp_path / "ts.parquet")
    accounts = pa.Table.from_pylist([{"account_id": "acct-1", "tier": "research", "verified": True}])
    pq.write_table(accounts, tmp_path / "accounts.parquet")
    report, con = _ingest(tmp_path, [tmp_path / "ts.parquet"], accounts=tmp_path / "accounts.parquet")
    assert (report.exchanges, report.rejected, report.account_records) == (3, 0, 1)
    first = con.execute("SELECT min(ts) FROM exchanges").fetchone()[0]
    assert first == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # the same instant, whatever the zone
