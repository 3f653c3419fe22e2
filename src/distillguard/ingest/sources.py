"""Input files: find them (files, directories, globs), tell their kind, and stream them.

JSON Lines (plain, gzip, zstd) are read in large chunks and cut into (line number, bytes) pairs
so memory stays bounded whatever the file size; Parquet is read one row group batch at a time.
Problems with a path itself (missing, unreadable, not a log file) raise `SourceError` with one
clear line; problems with a record inside a file are the records' business (rejects).
"""

from __future__ import annotations

import glob
import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import zstandard

CHUNK = 8 << 20  # bytes read at a time

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PARQUET_MAGIC = b"PAR1"
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".gz", ".zst")


class SourceError(Exception):
    """A path that cannot be read as exchange logs; the message is one line for the user."""


class DataError(SourceError):
    """A file that breaks off part-way (corrupt or truncated compression, a bad row group).

    `line` is the first line (or row) that could not be read; everything before it was yielded.
    """

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Source:
    """One input file: `kind` is "jsonl" or "parquet", `compression` "", "gzip" or "zstd"."""

    path: Path
    kind: str
    compression: str
    size: int


def _sniff(path: Path) -> tuple[str, str]:
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if head.startswith(_PARQUET_MAGIC):
        return "parquet", ""
    if head.startswith(_GZIP_MAGIC):
        return "jsonl", "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "jsonl", "zstd"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text or text.startswith(b"{") or path.name.endswith(_JSONL_SUFFIXES):
        return "jsonl", ""
    raise SourceError(f"{path}: not an exchange log (expected JSON Lines, .jsonl.gz, .jsonl.zst or Parquet)")


def _excluded(path: Path, exclude: tuple[Path, ...]) -> bool:
    resolved = path.resolve()
    return any(resolved == x or x in resolved.parents for x in exclude)


def _expand_one(arg: str | Path, exclude: tuple[Path, ...]) -> list[Path]:
    path = Path(arg)
    if path.is_dir():
        found = [
            p
            for p in sorted(path.rglob("*"))
            if p.is_file()
            and not p.name.startswith((".", "_"))
            and _is_log_name(p.name)
            and not _excluded(p, exclude)
        ]
        if not found:
            raise SourceError(f"{path}: directory holds no .jsonl, .jsonl.gz, .jsonl.zst or .parquet files")
        return found
    if path.exists():
        return [path]
    if glob.has_magic(str(arg)):
        matches = [
            Path(p)
            for p in sorted(glob.glob(str(arg), recursive=True))
            if Path(p).is_file() and not _excluded(Path(p), exclude)
        ]
        if not matches:
            raise SourceError(f"{arg}: no file matches this pattern")
        return matches
    raise SourceError(f"{path}: no such file or directory")


def _is_log_name(name: str) -> bool:
    return name.endswith((*_JSONL_SUFFIXES, ".parquet", ".pq"))


def expand_paths(
    paths: list[str | Path] | tuple[str | Path, ...], exclude: tuple[Path, ...] | list[Path] = ()
) -> list[Source]:
    """Resolve files, directories (recursively: log-like file names) and globs into sources.

    Order is kept (arguments in order, each directory/glob sorted); a file given twice is read
    once. Files and folders in `exclude` (a scan's own outputs) are skipped when a directory or a
    glob is expanded. Raises SourceError for a path that does not exist or cannot be a log.
    """
    skip = tuple(Path(x).resolve() for x in exclude)
    if not paths:
        raise SourceError("no input paths given")
    seen: set[Path] = set()
    sources: list[Source] = []
    for arg in paths:
        for path in _expand_one(arg, skip):
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            kind, compression = _sniff(path)
            sources.append(Source(path, kind, compression, path.stat().st_size))
    return sources


def _open_text_stream(source: Source, raw: BinaryIO) -> BinaryIO:
    if source.compression == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if source.compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[return-value]
    return raw


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
    try:
        raw = source.path.open("rb")
    except OSError as exc:
        raise SourceError(f"{source.path}: cannot read: {exc.strerror or exc}") from None
    with raw:
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
