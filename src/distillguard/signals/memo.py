"""Text-only signal columns remembered across batches, by content hash.

A batch already works once per distinct prompt; a map worker sees many batches, and real traffic
repeats itself across them (a benchmark sent by every eval runner, a pool's templates, retries,
the same system prompt on every request): the simulator's reference world has 258k exchanges
and 34k distinct user turns. A `TextMemo` keeps, for the last texts it computed, the columns that
depend on the text alone, so that a text seen in an earlier batch costs a lookup. The columns are
those the compute function returns, so a result is the same with or without the memo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
            self._chunks.append(compute(missing))
            self._starts.append(start)
            for offset, position in enumerate(missing.tolist()):
                self._index[keys[position]] = start + offset
            at[missing] = start + np.arange(len(missing))
        return self._gather(at)

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
