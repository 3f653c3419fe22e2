"""The gateway's exchange log: rotated JSON Lines in the scan's exchange-record format.

Each line is one exchange record (`id, ts, account_id, api_key_id, client_ip, user_agent,
request, response, status, latency_ms`, see docs/data-contracts.md) plus a `gateway` object with
the action taken, so `distillguard scan LOG_DIR` reads the files as they are. Records are queued
on the hot path and written by a background task. The file being written is named
`*.jsonl.part` and renamed to `*.jsonl` when it rotates (by size or age) or the gateway stops, so
a scan over `LOG_DIR/*.jsonl` never reads a half-written line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("distillguard.gateway")


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ExchangeLog:
    """Append exchange records to rotated files under `directory`."""

    def __init__(
        self,
        directory: str | Path,
        *,
        max_bytes: int = 128 * 1024 * 1024,
        max_age_s: float = 3600.0,
        keep_files: int | None = None,
        max_pending: int = 100_000,
        on_written: Any = None,
        on_dropped: Any = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes, self.max_age_s, self.keep_files = max_bytes, max_age_s, keep_files
        self.max_pending = max_pending
        self._pending: list[bytes] = []
        self._fh: Any = None
        self._path: Path | None = None
        self._opened_at = 0.0
        self._size = 0
        self._seq = 0
        self._on_written, self._on_dropped = on_written, on_dropped
        self.dropped = 0

    def write(self, record: dict[str, Any]) -> None:
        """Queue one record (never blocks; drops and counts when the queue is full)."""
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            if self._on_dropped:
                self._on_dropped()
            return
        try:
            self._pending.append(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        except TypeError as exc:  # a body orjson cannot encode: keep the record, not the body
            log.warning("exchange record %s not serializable: %s", record.get("id"), exc)

    def _open(self) -> None:
        self._seq += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self._path = self.directory / f"exchanges-{stamp}-{self._seq:04d}.jsonl.part"
        self._fh = self._path.open("ab")
        self._opened_at, self._size = time.monotonic(), 0

    def _seal(self) -> None:
        if self._fh is None or self._path is None:
            return
        self._fh.close()
        final = self._path.with_suffix("")  # drop `.part`
        self._path.rename(final)
        self._fh, self._path = None, None
        if self.keep_files:
            files = sorted(self.directory.glob("exchanges-*.jsonl"))
            for old in files[: max(0, len(files) - self.keep_files)]:
                old.unlink(missing_ok=True)

    def _take(self) -> list[bytes]:
        lines, self._pending = self._pending, []
        return lines

    def _write(self, lines: list[bytes]) -> int:
        """Write lines to the current file; rotate when it is too big or too old."""
        if not lines:
            if self._fh is not None and time.monotonic() - self._opened_at > self.max_age_s:
                self._seal()
            return 0
        if self._fh is None:
            self._open()
        data = b"".join(lines)
        self._fh.write(data)
        self._fh.flush()
        self._size += len(data)
        if self._on_written:
            self._on_written(len(lines))
        if self._size >= self.max_bytes or time.monotonic() - self._opened_at > self.max_age_s:
            self._seal()
        return len(lines)

    def flush(self) -> int:
        """Write queued records now (in the caller's thread)."""
        return self._write(self._take())

    def close(self) -> None:
        """Flush and seal the current file."""
        self.flush()
        self._seal()

    async def run(self, interval_s: float = 0.25) -> None:
        """Flush periodically until cancelled; then flush and seal. Records are taken from the
        queue on the event loop and written by a worker thread, so disk latency never stalls
        requests."""
        writing: asyncio.Future | None = None
        try:
            while True:
                await asyncio.sleep(interval_s)
                writing = asyncio.ensure_future(asyncio.to_thread(self._write, self._take()))
                try:
                    await asyncio.shield(writing)
                except OSError as exc:
                    log.error("exchange log write failed: %s", exc)
        finally:
            if writing is not None and not writing.done():
                with contextlib.suppress(OSError):
                    await writing  # never close the file under a write in progress
            with contextlib.suppress(OSError):
                self.close()
