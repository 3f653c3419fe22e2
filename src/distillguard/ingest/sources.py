"""Input files, found by `ingest.paths`, streamed.

JSON Lines (plain, gzip, zstd) are read in large chunks and cut into (line number, bytes) pairs
so memory stays bounded whatever the file size; Parquet is read one row group batch at a time.
A file that breaks off part-way raises `DataError` (a `SourceError`); problems with a record
inside a file are the records' business (rejects).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import zstandard

from distillguard.ingest.paths import Source, SourceError

CHUNK = 8 << 20  # bytes read at a time


class DataError(SourceError):
    """A file that breaks off part-way (corrupt or truncated compression, a bad row group).

    `line` is the first line (or row) that could not be read; everything before it was yielded.
    """

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _open_text_stream(source: Source, raw: BinaryIO) -> BinaryIO:
    if source.compression == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if source.compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[return-value]
    return raw


def _open_raw(source: Source) -> BinaryIO:
    """The source's file opened for reading bytes; SourceError names it when it cannot be."""
    try:
        return source.path.open("rb")
    except OSError as exc:
        raise SourceError(f"{source.path}: cannot read: {exc.strerror or exc}") from None


def iter_line_batches(
    source: Source,
    *,
    max_records: int = 4096,
    max_bytes: int = 16 << 20,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[list[tuple[int, bytes]]]:
    """Yield batches of (1-based line number, line bytes) of a JSON Lines source.

    Blank lines are skipped (they are not records) but still count in the numbering. A batch holds
    at most `max_records` lines or about `max_bytes` bytes. `on_bytes` is told how many bytes of
    the file (compressed, as stored) have been consumed. Raises SourceError when the file cannot
    be read or decompressed.
    """
    with _open_raw(source) as raw:
        stream = _open_text_stream(source, raw)
        # read1 on compressed streams hands out what was decompressed before a corrupt spot
        read = stream.read if stream is raw else stream.read1
        lineno = 0
        pending = b""
        batch: list[tuple[int, bytes]] = []
        size = 0
        consumed = 0
        while True:
            try:
                chunk = read(CHUNK)
            except (OSError, EOFError, zstandard.ZstdError) as exc:
                if batch:
                    yield batch
                message = f"cannot decompress ({source.compression}) after line {lineno}: {exc}"
                raise DataError(message, lineno + 1) from None
            if on_bytes is not None:
                now = raw.tell()
                on_bytes(now - consumed)
                consumed = now
            if not chunk:
                break
            parts = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
            pending = parts.pop()
            for part in parts:
                lineno += 1
                if part and not part.isspace():
                    batch.append((lineno, part))
                    size += len(part)
                    if len(batch) >= max_records or size >= max_bytes:
                        yield batch
                        batch, size = [], 0
        if pending and not pending.isspace():  # last line without a final newline
            batch.append((lineno + 1, pending))
        if batch:
            yield batch


def iter_line_ranges(
    source: Source,
    *,
    max_records: int = 4096,
    max_bytes: int = 16 << 20,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, int, int]]:
    """Yield (first line number, byte offset, byte length) of consecutive blocks of whole lines of
    an uncompressed JSON Lines source, each holding the records of one batch of
    `iter_line_batches` (same limits): a map worker reads its own block (`read_line_range`), so
    the reading process neither splits the lines nor sends them through a pipe, and the store's
    parts are the same. Raises SourceError when the file cannot be read, DataError when reading
    breaks off."""
    if source.compression:
        raise ValueError(f"{source.path}: line ranges need an uncompressed file")
    with _open_raw(source) as raw:
        block = _Block(max_records, max_bytes)
        pending, offset = b"", 0  # the partial line read so far, and its offset in the file
        while True:
            try:
                chunk = raw.read(CHUNK)
            except OSError as exc:
                if block.records:
                    yield block.first, block.start, offset - block.start
                line = block.first + block.lines  # the first line not read whole
                raise DataError(f"cannot read after line {line - 1}: {exc}", line) from None
            if on_bytes is not None:
                on_bytes(len(chunk))
            if not chunk:
                break
            data = pending + chunk if pending else chunk
            cut = data.rfind(b"\n") + 1
            yield from block.add(data, cut, offset)
            pending, offset = data[cut:], offset + cut
        if block.records or (pending and not pending.isspace()):  # the last line may lack its newline
            yield block.first, block.start, offset + len(pending) - block.start


_SPACE = np.zeros(256, bool)
_SPACE[list(b" \t\n\r\x0b\x0c")] = True  # what bytes.isspace() calls whitespace


class _Block:
    """The block of lines `iter_line_ranges` is filling: where it starts, its lines so far, and
    `iter_line_batches`' counts (non-blank lines and their bytes) that close it."""

    def __init__(self, max_records: int, max_bytes: int) -> None:
        self.max_records, self.max_bytes = max_records, max_bytes
        self.start, self.first, self.lines, self.records, self.size = 0, 1, 0, 0, 0

    def add(self, data: bytes, cut: int, offset: int) -> Iterator[tuple[int, int, int]]:
        """Count the whole lines `data[:cut]` (found at `offset` in the file); yield each block
        they close. The lines are looked at as arrays: only those that start with whitespace are
        read one by one, to tell a blank line."""
        if not cut:
            return
        arr = np.frombuffer(data, np.uint8, count=cut)
        ends = np.flatnonzero(arr == 10)
        begins = np.concatenate(([0], ends[:-1] + 1))
        length = ends - begins
        counted = length > 0
        for i in np.flatnonzero(counted & _SPACE[arr[begins]]):
            counted[i] = not data[begins[i] : ends[i]].isspace()
        # Running counts over the data; the block closes at the first line where its counts reach
        # a limit (only a counted line moves them). One search per block, however many lines.
        records = np.cumsum(counted)
        size = np.cumsum(np.where(counted, length, 0))
        done = 0  # the first line of `data` in the open block
        base_records, base_size = -self.records, -self.size  # the running counts at its start
        while True:
            last = min(
                int(np.searchsorted(records, base_records + self.max_records)),
                int(np.searchsorted(size, base_size + self.max_bytes)),
            )
            if last == len(ends):
                self.records, self.size = int(records[-1]) - base_records, int(size[-1]) - base_size
                self.lines += len(ends) - done
                return
            end = offset + int(ends[last]) + 1
            yield self.first, self.start, end - self.start
            self.first += self.lines + last - done + 1
            self.start, self.lines = end, 0
            done = last + 1
            base_records, base_size = int(records[last]), int(size[last])


def file_identity(path: str | Path) -> tuple[int, int]:
    """(device, inode) of a file: what a map worker checks before it reads a block of it."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def read_line_range(
    path: str | Path, first: int, offset: int, length: int, identity: tuple[int, int] | None = None
) -> list[tuple[int, bytes]]:
    """The (line number, line bytes) of one block of `iter_line_ranges`, blank lines skipped: the
    same pairs `iter_line_batches` gives for those lines. Raises DataError when the file is no
    longer the one the block was found in (renamed away, replaced, truncated, unreadable): a log
    rotated during a scan is one explained reject per lost block, never wrong lines."""
    try:
        with open(path, "rb") as raw:
            st = os.fstat(raw.fileno())
            if identity is not None and (st.st_dev, st.st_ino) != tuple(identity):
                raise DataError(f"{path}: replaced during the scan; lines from {first} not read", first)
            raw.seek(offset)
            data = raw.read(length)
    except OSError as exc:
        raise DataError(f"{path}: cannot read lines from {first}: {exc.strerror or exc}", first) from None
    if len(data) != length:
        raise DataError(f"{path}: truncated during the scan; lines from {first} not read", first)
    parts = data.split(b"\n")
    if data.endswith(b"\n"):
        parts.pop()
    return [(first + i, part) for i, part in enumerate(parts) if part and not part.isspace()]


def iter_parquet_batches(
    source: Source, *, batch_size: int = 4096, on_bytes: Callable[[int], None] | None = None
) -> Iterator[tuple[int, pa.RecordBatch]]:
    """Yield (first row number, record batch) of a Parquet source, `batch_size` rows at a time."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source.path)
    except (OSError, ValueError) as exc:
        raise SourceError(f"{source.path}: not a readable Parquet file: {exc}") from None
    total_rows = max(pf.metadata.num_rows, 1)
    first = 1
    reported = 0
    batches = pf.iter_batches(batch_size=batch_size)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, ValueError) as exc:
            raise DataError(f"unreadable Parquet data from row {first}: {exc}", first) from None
        if on_bytes is not None:
            done = int(source.size * min(1.0, (first - 1 + batch.num_rows) / total_rows))
            on_bytes(done - reported)
            reported = done
        yield first, batch
        first += batch.num_rows
