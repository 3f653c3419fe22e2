"""Fuse findings into calibrated risk and verdicts per account and per cluster."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.decide.model import FusionModel, shipped
from distillguard.detect.base import DetectionContext
from distillguard.detect.pool import tied_by_own_evidence
from distillguard.findings import Finding

ACCOUNT_VERDICT_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("risk", pa.float64()),
        pa.field("flagged", pa.bool_()),
        pa.field("cluster_id", pa.string()),
        pa.field("exchanges", pa.int64()),
        pa.field("reasons", pa.string()),
    ]
)
CLUSTER_VERDICT_SCHEMA = pa.schema(
    [
        pa.field("cluster_id", pa.string(), nullable=False),
        pa.field("accounts", pa.int64()),
        pa.field("exchanges", pa.int64()),
        pa.field("risk", pa.float64()),
        pa.field("flagged", pa.bool_()),
        pa.field("capabilities", pa.string()),
        pa.field("reasons", pa.string()),
    ]
)
MAX_REASONS = 4
MIN_REASON = 0.05  # log-odds: a contribution below this did not drive the verdict


@dataclass
class Verdicts:
    accounts: pa.Table  # ACCOUNT_VERDICT_SCHEMA, one row per account seen in the scan
    clusters: pa.Table  # CLUSTER_VERDICT_SCHEMA, one row per linked cluster
    threshold: float


def _noisy_or(scores: list[float]) -> float:
    return 1.0 - float(np.prod([1.0 - s for s in scores])) if scores else 0.0


def _account_exchanges(con: Any) -> dict[str, int]:
    rows = con.execute("SELECT account_id, exchanges FROM account_features").fetchall()
    return {a: int(n) for a, n in rows}


def _reason(f: Finding) -> str:
    return f"{f.detector} {f.score:.2f}"


def _cluster_reason(cluster_id: str, lent: float, tie: float | None) -> str:
    text = f"cluster {cluster_id} {lent:.2f}"
    return text if tie is None else f"{text} (weakly tied: {tie:.2f} of the cluster's score)"


def account_scores(
    findings: list[Finding],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Finding]], dict[str, float]]:
    """Per account: detector id -> score (the strongest finding of each detector) and the findings;
    per cluster: the noisy-OR of its cluster findings' scores."""
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    found: dict[str, dict[str, Finding]] = defaultdict(dict)
    per_cluster: dict[str, list[float]] = defaultdict(list)
    for f in findings:
        if f.subject_kind == "account":
            if f.score >= scores[f.subject_id].get(f.detector, -1.0):
                scores[f.subject_id][f.detector] = f.score
                found[f.subject_id][f.detector] = f
        elif f.subject_kind == "cluster":
            per_cluster[f.subject_id].append(f.score)
    return scores, found, {cid: _noisy_or(s) for cid, s in per_cluster.items()}


def volume_outliers(findings: list[Finding]) -> set[str]:
    """Accounts that a cluster finding lists as volume outliers of their cluster: not one of the
    pool's interchangeable workers, so the cluster's score is no evidence about them."""
    out: set[str] = set()
    for f in findings:
        if f.subject_kind == "cluster":
            out.update(o["account_id"] for o in (f.evidence or {}).get("volume_outliers") or [])
    return out


def member_ties(findings: list[Finding]) -> dict[str, float]:
    """Account -> its tie to its cluster, for the members a cluster finding lists as weakly tied
    (`detect.pool.member_tie`): linked into the pool by nothing of the pool's own, so the cluster's
    score is evidence about it only in that proportion."""
    out: dict[str, float] = {}
    for f in findings:
        if f.subject_kind == "cluster":
            for m in (f.evidence or {}).get("weakly_tied_members") or []:
                out[m["account_id"]] = min(out.get(m["account_id"], 1.0), float(m["tie"]))
    return out


def member_cluster_score(
    account: str,
    cluster_of: dict[str, str],
    cluster_score: dict[str, float],
    outliers: set[str],
    ties: dict[str, float] | None = None,
) -> float:
    """The cluster score an account is lent: its cluster's times its tie to the cluster (1 unless
    listed as weakly tied), and none when it is a volume outlier there."""
    if account in outliers:
        return 0.0
    return cluster_score.get(cluster_of.get(account, ""), 0.0) * (ties or {}).get(account, 1.0)


def _cluster_capabilities(cluster: Any) -> str:
    caps = getattr(cluster, "capabilities", None) or {}
    if isinstance(caps, dict):
        ranked = sorted(caps.items(), key=lambda kv: -kv[1])
        return ", ".join(f"{k} {v:.0%}" for k, v in ranked[:3])
    return ", ".join(map(str, caps))


def fuse(
    findings: list[Finding],
    ctx: DetectionContext,
    threshold: float | None = None,
    model: FusionModel | None = None,
) -> Verdicts:
    """Turn findings into verdicts: calibrated risk in [0, 1], flagged at `threshold`.

    Every account in `account_features` gets a row; `reasons` names the findings that drove the
    risk (largest contributions first) and the account's cluster when it counted.
    """
    model = model or shipped()
    threshold = model.threshold if threshold is None else float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold!r} is outside [0, 1]")
    linkage = ctx.linkage
    cluster_of: dict[str, str] = dict(getattr(linkage, "cluster_of", None) or {})
    clusters = {c.cluster_id: c for c in (getattr(linkage, "clusters", None) or [])}

    scores, found, cluster_score = account_scores(findings)
    exchanges = _account_exchanges(ctx.con)
    for acc in scores:  # findings about accounts the features never saw still get a row
        exchanges.setdefault(acc, 0)
    ids = sorted(exchanges)
    outliers = volume_outliers(findings)
    ties = member_ties(findings)
    members: dict[str, list[str]] = defaultdict(list)
    for a in ids:
        if a in cluster_of:
            members[cluster_of[a]].append(a)
    clusters_table, cluster_risk = _cluster_verdicts(
        members, clusters, scores, cluster_score, exchanges, model, threshold
    )

    cl = [member_cluster_score(a, cluster_of, cluster_score, outliers, ties) for a in ids]
    totals, reasons = [], []
    for a, c_score in zip(ids, cl, strict=True):
        total, parts = model.evidence(scores.get(a, {}), c_score)
        totals.append(total)
        ranked = sorted(((v, d) for d, v in parts.items() if v >= MIN_REASON), reverse=True)[:MAX_REASONS]
        reasons.append(
            "; ".join(
                _cluster_reason(cluster_of[a], c_score, ties.get(a))
                if d == "cluster"
                else _reason(found[a][d])
                for _, d in ranked
            )
        )
    risk = model.risk(np.array(totals))
    # A worker of a flagged pool is flagged with it: a member linked to fellow members by operator
    # evidence or shared harvest prompts, or one look-alike joining tested against the pool as a
    # whole (not weakly tied, not a volume outlier), takes the cluster's risk when higher. Its own
    # requests may be too few to say anything; the pool's say it for all of them. A member
    # attached by content alone is not a worker by that: a developer whose tool prompts resemble
    # a pool's is attached the same way.
    for i, a in enumerate(ids):
        c_risk = cluster_risk.get(cluster_of.get(a, ""), 0.0)
        if (
            c_risk >= threshold
            and c_risk > risk[i]
            and a not in ties
            and a not in outliers
            and _worker(clusters.get(cluster_of[a]), a)
        ):
            risk[i] = c_risk
            reasons[i] = "; ".join(
                r for r in (f"worker of flagged cluster {cluster_of[a]} {c_risk:.2f}", reasons[i]) if r
            )
    accounts = pa.table(
        {
            "account_id": ids,
            "risk": np.round(risk, 6),
            "flagged": risk >= threshold,
            "cluster_id": [cluster_of.get(a) for a in ids],
            "exchanges": [exchanges[a] for a in ids],
            "reasons": reasons,
        },
        schema=ACCOUNT_VERDICT_SCHEMA,
    )
    return Verdicts(accounts=accounts, clusters=clusters_table, threshold=threshold)


def _worker(cluster: Any, account: str) -> bool:
    """Whether the link stage made `account` one of `cluster`'s own (`tied_by_own_evidence`; a
    linkage that measured no ties counts every member)."""
    measured = (getattr(cluster, "member_ties", None) or {}).get(account)
    return measured is None or tied_by_own_evidence(measured)


def _cluster_verdicts(
    members: dict[str, list[str]],
    clusters: dict[str, Any],
    scores: dict[str, dict[str, float]],
    cluster_score: dict[str, float],
    exchanges: dict[str, int],
    model: FusionModel,
    threshold: float,
) -> tuple[pa.Table, dict[str, float]]:
    """One verdict per cluster, judged as its average member plus its own coordination score;
    and cluster id -> risk."""
    rows: dict[str, list[Any]] = defaultdict(list)
    risks: dict[str, float] = {}
    for cid in sorted(set(members) | set(clusters)):
        accs = members.get(cid, [])
        c_score = cluster_score.get(cid, 0.0)
        mean_scores: dict[str, float] = defaultdict(float)
        for a in accs:
            for det, v in scores.get(a, {}).items():
                mean_scores[det] += v / len(accs)
        total, parts = model.evidence(dict(mean_scores), c_score)
        c_risk = float(model.risk(np.array([total]))[0])
        risks[cid] = c_risk
        items = [f"cluster score {c_score:.2f}"] if c_score > 0 else []
        items += [
            f"{d} avg {mean_scores[d]:.2f}"
            for d, v in sorted(parts.items(), key=lambda kv: -kv[1])
            if d != "cluster" and v >= MIN_REASON
        ][:MAX_REASONS]
        cluster = clusters.get(cid)
        rows["cluster_id"].append(cid)
        rows["accounts"].append(len(cluster.members) if cluster is not None else len(accs))
        rows["exchanges"].append(int(getattr(cluster, "exchanges", 0) or sum(exchanges[a] for a in accs)))
        rows["risk"].append(round(c_risk, 6))
        rows["flagged"].append(c_risk >= threshold)
        rows["capabilities"].append(_cluster_capabilities(cluster))
        rows["reasons"].append("; ".join(items))
    table = pa.table(
        {name: rows.get(name, []) for name in CLUSTER_VERDICT_SCHEMA.names}, schema=CLUSTER_VERDICT_SCHEMA
    )
    return table, risks
