"""Text-only signal columns remembered across batches, by content hash.

A batch already works once per distinct prompt; a map worker sees many batches, and real traffic
repeats itself across them (a benchmark sent by every eval runner, a pool's templates, retries,
the same system prompt on every request): the simulator's reference world has 258k exchanges
and 34k distinct user turns. A `TextMemo` keeps, for the last texts it computed, the columns that
depend on the text alone, so that a text seen in an earlier batch costs a lookup. The columns are
those the compute function returns, so a result is the same with or without the memo. The map
workers of one scan also hand each other what they computed (`take_fresh`, `write_rows`,
`read_rows`, `absorb`; `ingest.loader`), so that a text every worker meets is computed about once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash

MAX_ROWS = 65_536  # remembered texts per memo (~30 MB of user-turn columns); when full, it starts afresh


def text_key(*parts: str) -> int:
    """128-bit content hash of one or more strings (joined with a separator no text contains)."""
    return xxhash.xxh3_128_intdigest("\x00".join(parts).encode("utf-8", "surrogatepass"))


class TextMemo:
    """Rows of text-only columns by content key, for the life of one process (a map worker)."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.max_rows = max_rows
        self._clear()

    def _clear(self) -> None:
        self._index: dict[int, int] = {}  # key -> row number over all chunks
        self._chunks: list[pa.Table] = []  # one per call that computed rows, never copied
        self._starts: list[int] = []  # first row number of each chunk
        self._fresh: list[tuple[list[int], pa.Table]] = []  # computed here since `take_fresh`

    def __len__(self) -> int:
        return len(self._index)

    def rows(self, keys: Sequence[int], compute: Callable[[np.ndarray], pa.Table]) -> pa.Table:
        """One row per key, in order: remembered ones looked up, the others from
        `compute(positions)` — the positions in `keys` of the texts to compute, one row each."""
        at = np.fromiter((self._index.get(k, -1) for k in keys), np.int64, len(keys))
        missing = np.flatnonzero(at < 0)
        if len(missing) and len(self._index) + len(missing) > self.max_rows:
            self._clear()
            at[:] = -1
            missing = np.arange(len(keys))
        if len(missing):
            start = len(self._index)
            computed = compute(missing)
            fresh = [keys[position] for position in missing.tolist()]
            self._add(fresh, computed)
            self._fresh.append((fresh, computed))
            at[missing] = start + np.arange(len(missing))
        return self._gather(at)

    def _add(self, keys: list[int], table: pa.Table) -> None:
        start = len(self._index)
        self._chunks.append(table)
        self._starts.append(start)
        self._index.update(zip(keys, range(start, start + len(keys)), strict=True))

    def take_fresh(self) -> tuple[list[int], pa.Table | None]:
        """The keys and rows computed by this memo since the last call (not those absorbed)."""
        fresh, self._fresh = self._fresh, []
        if not fresh:
            return [], None
        return [k for keys, _ in fresh for k in keys], pa.concat_tables([t for _, t in fresh])

    def absorb(self, keys: list[int], table: pa.Table) -> None:
        """Remember rows computed elsewhere (another map worker of the same scan) for `keys`; keys
        already remembered are skipped, and nothing is taken when the memo has no room left."""
        new = [i for i, k in enumerate(keys) if k not in self._index]
        if not new or len(self._index) + len(new) > self.max_rows:
            return
        if len(new) < len(keys):
            table = table.take(pa.array(new, pa.int64()))
            keys = [keys[i] for i in new]
        self._add(keys, table)

    def _gather(self, at: np.ndarray) -> pa.Table:
        """Rows `at` (row numbers over all chunks), taken chunk by chunk and put back in order."""
        chunk = np.searchsorted(np.asarray(self._starts), at, side="right") - 1
        order = np.argsort(chunk, kind="stable")
        at_sorted, chunk_sorted = at[order], chunk[order]
        pieces = [
            self._chunks[c].take(pa.array(at_sorted[chunk_sorted == c] - self._starts[c]))
            for c in np.unique(chunk).tolist()
        ]
        gathered = pa.concat_tables(pieces)
        back = np.empty(len(at), np.int64)
        back[order] = np.arange(len(at))
        return gathered.take(pa.array(back))


_LOW = (1 << 64) - 1


def write_rows(path: Path, keys: list[int], table: pa.Table) -> None:
    """Rows of a memo with their 128-bit keys, as an Arrow IPC file; written whole, then renamed
    into place, so that a reader never sees part of it."""
    hi = pa.array([k >> 64 for k in keys], pa.uint64())
    lo = pa.array([k & _LOW for k in keys], pa.uint64())
    keyed = table.append_column("_key_hi", hi).append_column("_key_lo", lo)
    tmp = path.with_name(path.name + ".tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, keyed.schema) as writer:
        writer.write_table(keyed)
    os.replace(tmp, path)


def read_rows(path: Path) -> tuple[list[int], pa.Table]:
    """The keys and rows `write_rows` wrote."""
    with pa.OSFile(str(path), "rb") as source:
        keyed = pa.ipc.open_file(source).read_all()
    hi, lo = keyed.column("_key_hi").to_pylist(), keyed.column("_key_lo").to_pylist()
    keys = [(h << 64) | low for h, low in zip(hi, lo, strict=True)]
    return keys, keyed.drop_columns(["_key_hi", "_key_lo"])
