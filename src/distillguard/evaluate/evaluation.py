"""`evaluate`: read a world's ground truth and a scan's verdicts, compute every metric.

Inputs: `truth.jsonl` (per account) with `exchange_truth.parquet` and `manifest.json` next to
it when present, and a scan directory (`accounts.csv`, `clusters.csv`, `summary.json`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from distillguard.evaluate import metrics
from distillguard.evaluate.metrics import TruthRow


class EvaluationError(ValueError):
    """The truth file or the scan directory cannot be read; the message says which and why."""


@dataclass
class EvalReport:
    """Every figure of one evaluation; render with `to_markdown`, `to_html`, `to_dict`."""

    truth_path: str
    scan_dir: str
    threshold: float | None
    world: dict[str, Any]
    accounts: dict[str, Any]
    ranking: dict[str, Any]
    archetypes: list[dict[str, Any]]
    campaigns: list[dict[str, Any]]
    exchanges: dict[str, Any] | None
    clusters: dict[str, Any]
    ttd: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Every figure as plain data (for --json)."""
        return asdict(self)

    def to_markdown(self) -> str:
        """The report as Markdown."""
        from distillguard.evaluate.render import to_markdown

        return to_markdown(self)

    def to_html(self) -> str:
        """The report as a self-contained HTML page."""
        from distillguard.evaluate.render import to_html

        return to_html(self)


def read_truth(path: Path) -> list[TruthRow]:
    """Rows of a truth.jsonl file; raises `EvaluationError` naming the line of a bad row."""
    if not path.is_file():
        raise EvaluationError(f"truth file {path} does not exist")
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                label = r["label"]
                if label not in ("legit", "campaign"):
                    raise ValueError(f"label must be 'legit' or 'campaign', got {label!r}")
                if label == "campaign" and not r.get("campaign_id"):
                    raise ValueError("a campaign account needs a campaign_id")
                rows.append(
                    TruthRow(
                        str(r["account_id"]),
                        label,
                        str(r.get("archetype") or label),
                        r.get("campaign_id") or None,
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise EvaluationError(f"{path}:{n}: bad truth row: {exc}") from None
    if not rows:
        raise EvaluationError(f"truth file {path} has no rows")
    return rows


def read_verdicts(scan_dir: Path) -> tuple[dict[str, float], set[str], dict[str, str]]:
    """(risk per account, flagged accounts, cluster id per clustered account) from accounts.csv."""
    path = scan_dir / "accounts.csv"
    if not path.is_file():
        raise EvaluationError(f"{scan_dir} has no accounts.csv: is it a scan output directory?")
    risk: dict[str, float] = {}
    flagged: set[str] = set()
    cluster_of: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"account_id", "risk", "flagged"} - set(reader.fieldnames or ())
        if missing:
            raise EvaluationError(f"{path}: missing columns {', '.join(sorted(missing))}")
        for row in reader:
            aid = row["account_id"]
            try:
                risk[aid] = float(row["risk"] or 0.0)
            except ValueError:
                raise EvaluationError(f"{path}: risk {row['risk']!r} of {aid} is not a number") from None
            if str(row["flagged"]).strip().lower() in ("true", "1", "yes"):
                flagged.add(aid)
            if row.get("cluster_id"):
                cluster_of[aid] = row["cluster_id"]
    return risk, flagged, cluster_of


def evaluate(truth_path: str | Path, scan_dir: str | Path) -> EvalReport:
    """Evaluate the scan in `scan_dir` against the ground truth in `truth_path` (a truth.jsonl file,
    or a simulated world's folder that holds one)."""
    truth_path, scan_dir = Path(truth_path), Path(scan_dir)
    if truth_path.is_dir():
        truth_path = truth_path / "truth.jsonl"
    truth = read_truth(truth_path)
    risk, flagged, cluster_of = read_verdicts(scan_dir)
    notes: list[str] = []
    summary = _read_json(scan_dir / "summary.json")
    manifest = _read_json(truth_path.parent / "manifest.json")
    if manifest.get("split") == "train" or (
        isinstance(manifest.get("seed"), int) and manifest["seed"] < 1000
    ):
        notes.append(
            f"this world (split={manifest.get('split')}, seed={manifest.get('seed')}) is for tuning: report "
            "quality on split=eval worlds with seeds >= 1000"
        )
    known = {r.account_id for r in truth}
    unseen = sum(1 for r in truth if r.account_id not in risk)
    if unseen:
        notes.append(
            f"{_accounts(unseen)} of the truth file had no exchange in the scan: counted as not flagged"
        )
    extra = sum(1 for a in risk if a not in known)
    if extra:
        notes.append(f"{_accounts(extra)} in the scan are not in the truth file: ignored")

    exchanges = None
    ex_path = truth_path.parent / "exchange_truth.parquet"
    if ex_path.is_file():
        table = pq.read_table(ex_path, columns=["account_id", "campaign_id"])
        exchanges = metrics.exchange_attribution(
            table.column("account_id").to_numpy(zero_copy_only=False),
            table.column("campaign_id").to_numpy(zero_copy_only=False),
            flagged,
        )
    else:
        notes.append("no exchange_truth.parquet next to the truth file: exchange attribution not computed")

    legit_rates = metrics.group_rates([r for r in truth if r.label == "legit"], flagged, "archetype")
    campaigns = metrics.group_rates(truth, flagged, "campaign_id")
    for row in campaigns:
        row["recall"] = row.pop("rate")
        if exchanges:
            row["exchange_share"] = exchanges["per_campaign"].get(row["campaign_id"], {}).get("share")
    return EvalReport(
        truth_path=str(truth_path),
        scan_dir=str(scan_dir),
        threshold=summary.get("threshold"),
        world={
            k: manifest.get(k)
            for k in (
                "scenario",
                "seed",
                "split",
                "scale",
                "start",
                "end",
                "exchanges",
                "accounts",
                "new_model_release",
            )
            if k in manifest
        },
        accounts=metrics.confusion(truth, flagged),
        ranking=metrics.ranking(truth, risk),
        archetypes=legit_rates,
        campaigns=campaigns,
        exchanges=exchanges,
        clusters=metrics.cluster_agreement(truth, cluster_of),
        notes=notes,
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _accounts(n: int) -> str:
    return f"{n} account" if n == 1 else f"{n} accounts"
