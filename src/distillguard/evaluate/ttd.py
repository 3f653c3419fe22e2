"""Time to detection, measured by scanning growing prefixes of a simulated world.

A batch scan sees a whole window at once, so "when was the campaign detected" only has an
honest meaning as: if the provider had scanned the log up to time T, would it have flagged the
campaign? `measure_ttd` scans the world's exchanges up to each cutoff (hours after the world
start) with the same configuration, and reports per campaign the hours from the campaign's
first exchange to the first cutoff at which (a) one of its accounts and (b) half of its accounts
were flagged. The resolution is the spacing of the cutoffs; "not detected" means never within
the world. Legitimate accounts flagged at each cutoff are reported alongside, since a detector
that fires early by flagging everyone has not detected anything.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from distillguard.evaluate.evaluation import EvaluationError, read_truth, read_verdicts

DEFAULT_HOURS = (1.0, 3.0, 6.0, 12.0, 24.0, 36.0, 48.0, 72.0, 96.0, 120.0, 168.0)


def measure_ttd(
    world_dir: str | Path,
    hours: tuple[float, ...] | list[float] | None = None,
    *,
    config: Any = None,
    workers: int | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Scan prefixes of the world in `world_dir`; return (per-campaign TTD rows, per-cutoff rows)."""
    from distillguard.pipeline import run_scan

    world_dir = Path(world_dir)
    exchanges = world_dir / "exchanges.jsonl"
    ex_truth = world_dir / "exchange_truth.parquet"
    if not exchanges.is_file() or not ex_truth.is_file():
        raise EvaluationError(
            f"{world_dir} is not a simulated world (needs exchanges.jsonl and exchange_truth.parquet)"
        )
    truth = read_truth(world_dir / "truth.jsonl")
    table = pq.read_table(ex_truth, columns=["account_id", "ts", "campaign_id"])
    ts = table.column("ts").cast("int64").to_numpy()
    if len(ts) == 0:
        return [], []
    if np.any(np.diff(ts) < 0):
        raise EvaluationError(f"{ex_truth}: exchanges are not in time order; prefix scans need a sorted log")
    start, end = _world_start(world_dir, int(ts[0])), int(ts[-1])
    hours = sorted(h for h in (hours or DEFAULT_HOURS) if start + h * 3.6e9 <= end + 3.6e9)
    accounts_file = world_dir / "accounts.jsonl"
    campaigns: dict[str, list[str]] = {}
    for r in truth:
        if r.campaign_id:
            campaigns.setdefault(r.campaign_id, []).append(r.account_id)
    legit = {r.account_id for r in truth if r.label == "legit"}
    camp_col = table.column("campaign_id").to_pylist()
    first_seen = {}
    for i, cid in enumerate(camp_col):
        if cid and cid not in first_seen:
            first_seen[cid] = int(ts[i])

    cutoffs: list[dict[str, Any]] = []
    flagged_at: list[set[str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="distillguard-ttd-"))
    try:
        with exchanges.open("rb") as src:
            prefix = tmp / "prefix.jsonl"
            dst = prefix.open("wb")
            written = 0
            for h in hours:
                k = int(np.searchsorted(ts, start + int(h * 3.6e9), side="left"))
                while written < k:
                    dst.write(src.readline())
                    written += 1
                dst.flush()
                out = tmp / f"scan-{h:g}h"
                run_scan(
                    [prefix],
                    out,
                    accounts=accounts_file if accounts_file.is_file() else None,
                    config=config,
                    workers=workers,
                )
                _, flagged, _ = read_verdicts(out)
                flagged_at.append(flagged)
                cutoffs.append(
                    {
                        "hours": h,
                        "exchanges": k,
                        "flagged_legit": len(flagged & legit),
                        "flagged_campaign": len(flagged - legit),
                    }
                )
                shutil.rmtree(out, ignore_errors=True)
            dst.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []
    for cid, members in sorted(campaigns.items()):
        if cid not in first_seen:
            continue
        first_flag = half = None
        for h, flagged in zip(hours, flagged_at, strict=True):
            n = sum(1 for a in members if a in flagged)
            at = (start + h * 3.6e9 - first_seen[cid]) / 3.6e9
            if first_flag is None and n >= 1:
                first_flag = max(0.0, at)
            if half is None and n >= len(members) / 2:
                half = max(0.0, at)
        rows.append(
            {
                "campaign_id": cid,
                "first_exchange": np.datetime_as_string(np.datetime64(first_seen[cid], "us"), unit="s") + "Z",
                "hours_to_first_flag": first_flag,
                "hours_to_half": half,
            }
        )
    return rows, cutoffs


def _world_start(world_dir: Path, first_ts: int) -> int:
    """The world's clock origin (µs) from manifest.json, else the first exchange's time."""
    try:
        text = json.loads((world_dir / "manifest.json").read_text(encoding="utf-8"))["start"]
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1_000_000)
    except (OSError, ValueError, KeyError, TypeError):
        return first_ts
