"""Quality metrics of a scan against ground truth, as pure functions of plain inputs.

Definitions (also in docs/evaluation.md):

- An account is *positive* when its truth label is `campaign` (a reseller account that mixes
  harvest with ordinary customers' requests is positive). It is *predicted positive* when the
  scan flagged it. Accounts of the truth file that the scan never saw count as not flagged.
- precision = TP / (TP + FP), recall = TP / (TP + FN), FPR = FP / (FP + TN).
- Per-archetype flag rate: flagged / accounts, for each legitimate archetype separately.
- Per-campaign recall: flagged / accounts of that campaign.
- Exchange attribution: the share of campaign exchanges (per `exchange_truth`) sent by flagged
  accounts; and, the other way, the share of legitimate exchanges that flagged accounts sent
  (a reseller's customers caught in the net).
- Cluster agreement: adjusted Rand index between true campaigns and predicted cluster ids
  over campaign accounts only (an unclustered account is its own singleton cluster), and a
  second ARI over all accounts, where every legitimate account is its own true class, so
  legitimate accounts pulled into a campaign's cluster lower it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import adjusted_rand_score, average_precision_score, roc_auc_score


@dataclass(frozen=True, slots=True)
class TruthRow:
    """One account of the truth file."""

    account_id: str
    label: str  # legit | campaign
    archetype: str
    campaign_id: str | None


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def confusion(truth: Iterable[TruthRow], flagged: set[str]) -> dict[str, float | int | None]:
    """TP/FP/FN/TN, precision, recall, FPR and F1 over accounts."""
    tp = fp = fn = tn = 0
    for row in truth:
        pos, pred = row.label == "campaign", row.account_id in flagged
        tp += pos and pred
        fp += (not pos) and pred
        fn += pos and not pred
        tn += (not pos) and not pred
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else (0.0 if tp + fn else None)
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "fpr": _ratio(fp, fp + tn),
        "f1": f1,
    }


def ranking(truth: Iterable[TruthRow], risk: Mapping[str, float]) -> dict[str, float | None]:
    """Threshold-free quality of the risk score: ROC AUC and average precision."""
    rows = list(truth)
    y = np.array([r.label == "campaign" for r in rows])
    s = np.array([risk.get(r.account_id, 0.0) for r in rows])
    if y.all() or not y.any():
        return {"roc_auc": None, "average_precision": None}
    return {"roc_auc": float(roc_auc_score(y, s)), "average_precision": float(average_precision_score(y, s))}


def group_rates(truth: Iterable[TruthRow], flagged: set[str], key: str) -> list[dict]:
    """Accounts, flagged and the flag rate per value of `key` ('archetype' or 'campaign_id')."""
    counts: dict[str, list[int]] = {}
    for row in truth:
        name = getattr(row, key)
        if name is None:
            continue
        c = counts.setdefault(name, [0, 0])
        c[0] += 1
        c[1] += row.account_id in flagged
    return [{key: k, "accounts": n, "flagged": f, "rate": f / n} for k, (n, f) in sorted(counts.items())]


def exchange_attribution(
    exchange_account: np.ndarray, exchange_campaign: np.ndarray, flagged: set[str]
) -> dict[str, object]:
    """Shares of campaign and legitimate exchanges sent by flagged accounts, overall and per campaign.

    `exchange_campaign` holds the campaign id of each exchange, or None / "" for legitimate ones.
    """
    acct = np.asarray(exchange_account, dtype=object)
    camp = np.array(["" if c is None else str(c) for c in exchange_campaign], dtype=object)
    hit = np.fromiter((a in flagged for a in acct), dtype=bool, count=len(acct))
    is_camp = camp != ""
    per = {}
    for cid in sorted(set(camp[is_camp])):
        m = camp == cid
        per[cid] = {
            "exchanges": int(m.sum()),
            "attributed": int((m & hit).sum()),
            "share": float((m & hit).sum() / m.sum()),
        }
    return {
        "campaign_exchanges": int(is_camp.sum()),
        "campaign_share": _ratio(float((is_camp & hit).sum()), float(is_camp.sum())),
        "legit_exchanges": int((~is_camp).sum()),
        "legit_share_in_flagged": _ratio(float((~is_camp & hit).sum()), float((~is_camp).sum())),
        "per_campaign": per,
    }


def cluster_agreement(
    truth: Iterable[TruthRow], cluster_of: Mapping[str, str]
) -> dict[str, float | int | None]:
    """ARI over campaign accounts, and over all accounts (legitimate accounts as singletons)."""
    rows = list(truth)

    def pred(account_id: str) -> str:
        cid = cluster_of.get(account_id)
        return f"c:{cid}" if cid else f"s:{account_id}"

    camp = [r for r in rows if r.label == "campaign"]
    ari_campaign = (
        float(adjusted_rand_score([r.campaign_id for r in camp], [pred(r.account_id) for r in camp]))
        if len(camp) >= 2
        else None
    )
    true_all = [r.campaign_id if r.label == "campaign" else f"legit:{r.account_id}" for r in rows]
    ari_all = (
        float(adjusted_rand_score(true_all, [pred(r.account_id) for r in rows])) if len(rows) >= 2 else None
    )
    return {
        "ari_campaign_accounts": ari_campaign,
        "ari_all_accounts": ari_all,
        "campaign_accounts": len(camp),
        "accounts": len(rows),
    }
