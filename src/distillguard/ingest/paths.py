"""Where the logs are: files, directories and globs expanded into sources, each file's kind told
from its first bytes. Kept apart from reading them (`ingest.sources`, which needs numpy and
pyarrow), so that a scan can size its map workers, and start them, before it has imported those.
Problems with a path itself (missing, unreadable, not a log file) raise `SourceError` with one
clear line.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PARQUET_MAGIC = b"PAR1"
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".gz", ".zst")


class SourceError(Exception):
    """A path that cannot be read as exchange logs; the message is one line for the user."""


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
