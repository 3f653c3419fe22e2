"""The latest batch scan's verdicts, loaded from its `accounts.csv` and reloaded when it changes.

Only accounts at or above `min_risk`, flagged, or in a cluster are kept: the rest carry no
information for the gateway, and skipping them keeps a million-account scan small in memory.
The file is re-read (off the event loop) when its modification time or size changes.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import os
from pathlib import Path

from distillguard.act.scoring import Verdict

log = logging.getLogger("distillguard.gateway")


def read_verdicts(path: Path, min_risk: float = 0.05) -> dict[str, Verdict]:
    """account_id -> Verdict from a scan's accounts.csv. Bad rows are skipped and counted in the log."""
    out: dict[str, Verdict] = {}
    bad = 0
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                risk = float(row.get("risk") or 0.0)
                flagged = str(row.get("flagged", "")).strip().lower() in ("true", "1", "yes")
                cluster = (row.get("cluster_id") or "").strip()
                account = row["account_id"]
            except (KeyError, ValueError):
                bad += 1
                continue
            if risk >= min_risk or flagged or cluster:
                out[account] = Verdict(risk, flagged, cluster)
    if bad:
        log.warning("scan verdicts %s: %d unreadable rows skipped", path, bad)
    return out


class VerdictTable:
    """Lookup of scan verdicts with change detection; `get` is a dict lookup."""

    def __init__(self, scan_dir: str | Path | None, min_risk: float = 0.05) -> None:
        path = Path(scan_dir) if scan_dir else None
        if path is not None and path.is_dir():
            path = path / "accounts.csv"
        self.path = path
        self.min_risk = min_risk
        self.verdicts: dict[str, Verdict] = {}
        self.loaded_at: float | None = None  # mtime of the loaded file
        self.reloads = 0
        self._sig: tuple[float, int] | None = None

    def get(self, account_id: str) -> Verdict | None:
        return self.verdicts.get(account_id)

    def _stat(self) -> tuple[float, int] | None:
        try:
            st = os.stat(self.path) if self.path else None
        except OSError:
            return None
        return (st.st_mtime, st.st_size) if st else None

    def reload_if_changed(self) -> bool:
        """Re-read the file if it changed since the last load; return whether it did."""
        sig = self._stat()
        if sig is None or sig == self._sig:
            return False
        try:
            self.verdicts = read_verdicts(self.path, self.min_risk)  # type: ignore[arg-type]
        except (OSError, csv.Error, UnicodeDecodeError) as exc:
            log.warning("cannot read scan verdicts %s: %s (keeping the previous ones)", self.path, exc)
            return False
        self._sig, self.loaded_at = sig, sig[0]
        self.reloads += 1
        log.info("loaded %d scan verdicts from %s", len(self.verdicts), self.path)
        return True

    async def watch(self, interval_s: float = 5.0) -> None:
        """Poll for changes until cancelled; reading happens in a worker thread."""
        while True:
            await asyncio.sleep(interval_s)
            await asyncio.to_thread(self.reload_if_changed)
