"""Line ranges: the map workers read their own blocks of a plain JSON Lines file, with the same
lines, line numbers and results as when the reading process hands out split lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from ingest_builders import dumps, record, write_lines

from distillguard.ingest import ingest_paths
from distillguard.ingest import sources as sources_module
from distillguard.ingest.paths import expand_paths
from distillguard.ingest.sources import iter_line_batches, iter_line_ranges, read_line_range
from distillguard.store import connect

# Blank and whitespace-only lines, a CR line end, a BOM, one long line and no final newline.
AWKWARD = [
    b"\xef\xbb\xbf" + dumps(record(0)),
    b"",
    dumps(record(1)) + b"\r",
    b"   ",
    b"\t",
    dumps({**record(2), "user_agent": "x" * 5000}),
    b"{not json",
    *[dumps(record(i)) for i in range(3, 40)],
    b"",
    b"",
]


def _file(tmp_path: Path, lines: list[bytes], final_newline: bool) -> Path:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if final_newline else b""))
    return path


def _from_ranges(path: Path, **kw: int) -> list[list[tuple[int, bytes]]]:
    source = expand_paths([path])[0]
    blocks = list(iter_line_ranges(source, **kw))
    # The blocks follow each other, in order.
    assert [offset for _, offset, _ in blocks[1:]] == [o + n for _, o, n in blocks[:-1]]
    return [read_line_range(path, first, offset, n) for first, offset, n in blocks]


@pytest.mark.parametrize("final_newline", [True, False])
@pytest.mark.parametrize(
    ("max_records", "max_bytes", "chunk"),
    [(4096, 16 << 20, 8 << 20), (3, 16 << 20, 7), (50, 600, 64), (4, 5000, 1000), (1, 1, 8 << 20)],
)
def test_ranges_hold_the_batches_of_iter_line_batches(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    final_newline: bool,
    max_records: int,
    max_bytes: int,
    chunk: int,
) -> None:
    path = _file(tmp_path, AWKWARD, final_newline)
    monkeypatch.setattr(sources_module, "CHUNK", chunk)  # chunk borders inside lines and blocks
    source = expand_paths([path])[0]
    batches = list(iter_line_batches(source, max_records=max_records, max_bytes=max_bytes))
    assert _from_ranges(path, max_records=max_records, max_bytes=max_bytes) == batches


def test_blocks_hold_at_most_max_records_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "log.jsonl", [dumps(record(i)) for i in range(10)])
    blocks = list(iter_line_ranges(expand_paths([path])[0], max_records=4))
    assert [first for first, _, _ in blocks] == [1, 5, 9]


def test_an_empty_file_gives_no_block(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert list(iter_line_ranges(expand_paths([path])[0])) == []


def test_compressed_files_are_not_cut_into_ranges(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl.gz"
    path.write_bytes(gzip.compress(dumps(record(0))))
    with pytest.raises(ValueError, match="uncompressed"):
        list(iter_line_ranges(expand_paths([path])[0]))


def test_workers_reading_ranges_keep_rows_rejects_and_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("distillguard.ingest.loader.BATCH_RECORDS", 8)  # several blocks per worker
    path = _file(tmp_path, [*AWKWARD, dumps(record(1))], final_newline=False)  # and a duplicate
    results = {}
    for workers in (1, 2):
        store = tmp_path / f"store-{workers}"
        report = ingest_paths([path], store, with_signals=False, workers=workers)
        rejects = [orjson.loads(x) for x in report.rejects_path.read_bytes().splitlines()]
        rows = connect(store).execute("SELECT exchange_id, line FROM exchanges ORDER BY line").fetchall()
        results[workers] = (
            report.exchanges,
            report.duplicates,
            [(r["line"], r["reason"]) for r in rejects],
            rows,
        )
    assert results[1] == results[2]
    assert results[2][:3] == (40, 1, [(7, "invalid_json")])


def test_jobs_of_several_batches_write_the_parts_of_one_batch_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("distillguard.ingest.loader.BATCH_RECORDS", 8)
    path = _file(
        tmp_path, [*AWKWARD, *[dumps(record(i, account=f"acct-{i % 5}")) for i in range(40, 75)]], True
    )
    stores = {}
    for per_job, workers in ((1, 1), (2, 1), (3, 2)):
        monkeypatch.setattr("distillguard.ingest.loader.BATCHES_PER_JOB", per_job)
        store = tmp_path / f"store-{per_job}-{workers}"
        ingest_paths([path], store, workers=workers)  # with the signals
        stores[per_job] = [pq.read_table(p) for p in sorted((store / "exchanges").glob("*.parquet"))]
    # batches of 8 records, the first with a reject: a part each
    assert [t.num_rows for t in stores[1]] == [7] + [8] * 8 + [4]
    for per_job in (2, 3):
        assert len(stores[per_job]) == len(stores[1])
        assert all(a.equals(b) for a, b in zip(stores[1], stores[per_job], strict=True))


def _blocks(path: Path) -> list[tuple[int, int, int]]:
    (source,) = expand_paths([str(path)])
    return list(iter_line_ranges(source, max_records=10))


@pytest.mark.parametrize("change", ["truncated", "replaced", "removed"])
def test_a_file_that_changes_under_the_scan_is_an_explained_reject(tmp_path: Path, change: str) -> None:
    """A log rotated or truncated between finding a block and reading it: the block is one
    `unreadable_data` reject naming what happened, never other lines or a crash."""
    from distillguard.ingest.loader import _normalize
    from distillguard.ingest.sources import file_identity

    path = tmp_path / "log.jsonl"
    write_lines(path, [dumps(record(i)) for i in range(30)])
    identity = file_identity(path)
    first, offset, length = _blocks(path)[-1]
    if change == "truncated":
        path.write_bytes(path.read_bytes()[: offset + 5])
    elif change == "replaced":
        path.rename(tmp_path / "log.jsonl.1")
        write_lines(path, [dumps(record(i)) for i in range(100, 130)])
    else:
        path.unlink()
    table, rejects = _normalize("range", str(path), (str(path), offset, length, identity), first, None)
    assert table.num_rows == 0
    assert [(r["line"], r["reason"]) for r in rejects] == [(first, "unreadable_data")]
    assert {"truncated": "truncated", "replaced": "replaced", "removed": "cannot read"}[change] in rejects[0][
        "detail"
    ]
