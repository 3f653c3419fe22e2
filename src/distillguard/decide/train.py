"""Fit the fusion model on labelled training worlds and choose the shipped threshold.

Only simulator worlds made with split="train" and a seed below 1000 are accepted (their
manifest.json says so): quality is reported on other worlds. The model is a logistic regression
over detector scores, the account's cluster score and the products of evidence families' strongest
scores (two independent kinds of evidence agreeing), with non-negative weights (evidence can
only raise risk) and an L2 penalty; a Platt step calibrates the summed evidence, and each
family's main effects are capped below the decision margin, so that only agreeing families flag.

    python -m distillguard.decide.train WORLD_DIR... --out src/distillguard/decide/fusion.json

Each WORLD_DIR holds the simulator's files (truth.jsonl, manifest.json) and `<WORLD_DIR>_scan`,
the output of `distillguard scan` over it (or pass --scan-suffix, or name the scan directories
themselves: `<WORLD_DIR>_scan`, `<WORLD_DIR>_scan-noacc`). `--keep FUSION_JSON` refits
incrementally (the weights of FUSION_JSON stay; with `--keep-calibration` its bias, calibration,
caps and threshold too, and only new detectors' weights are fitted).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from distillguard.decide.fusion import account_scores, member_cluster_score, member_ties, volume_outliers
from distillguard.decide.model import FAMILIES, PAIRS, FusionModel, logit, shipped
from distillguard.findings import Finding

MAX_TRAIN_SEED = 1000
# Each family's main effects may reach this share of the margin to the threshold: one kind of
# evidence alone, however loud, stays clearly below a flag.
CAP_SHARE = 0.75


@dataclass
class TrainingSet:
    findings: list[list[Finding]]  # per world
    cluster_of: list[dict[str, str]]  # per world
    accounts: list[list[str]]  # per world, every account with a label
    labels: list[np.ndarray]  # per world, 1 = campaign account
    groups: list[list[str]]  # per world: campaign id or legitimate archetype, per account


def check_training_world(world: Path) -> None:
    """Raise ValueError unless `world` was simulated with split="train" and seed < 1000."""
    manifest = json.loads((world / "manifest.json").read_text())
    if manifest.get("split") != "train" or int(manifest.get("seed", MAX_TRAIN_SEED)) >= MAX_TRAIN_SEED:
        raise ValueError(
            f"{world}: fusion may only be trained on split='train' worlds with seed < {MAX_TRAIN_SEED} "
            f"(this one is split={manifest.get('split')!r}, seed={manifest.get('seed')})"
        )


def load_world(
    world: Path, scan: Path
) -> tuple[list[Finding], dict[str, str], list[str], np.ndarray, list[str]]:
    """Findings, cluster membership, accounts, labels and groups of one scanned training world."""
    check_training_world(world)
    findings = [
        Finding(**json.loads(line)) for line in (scan / "findings.jsonl").read_text().splitlines() if line
    ]
    cluster_of: dict[str, str] = {}

    with (scan / "accounts.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row.get("cluster_id"):
                cluster_of[row["account_id"]] = row["cluster_id"]
    truth = [json.loads(line) for line in (world / "truth.jsonl").read_text().splitlines() if line]
    accounts = [t["account_id"] for t in truth]
    labels = np.array([t["label"] == "campaign" for t in truth], dtype=float)
    groups = [t["campaign_id"] or t["archetype"] for t in truth]
    return findings, cluster_of, accounts, labels, groups


def design(ts: TrainingSet, detectors: list[str], model: FusionModel) -> tuple[np.ndarray, np.ndarray]:
    """Per-account columns: detector scores, the cluster score, then one column per family pair
    (the product of the two families' strongest scores); and the labels."""
    rows, ys = [], []
    col = {d: i for i, d in enumerate(detectors)}
    fam_index = {f: i for i, f in enumerate(FAMILIES)}
    per_world = zip(ts.findings, ts.cluster_of, ts.accounts, ts.labels, strict=True)
    for findings, cluster_of, accounts, labels in per_world:
        scores, _, cluster_score = account_scores(findings)
        outliers = volume_outliers(findings)
        ties = member_ties(findings)
        x = np.zeros((len(accounts), len(detectors) + 1 + len(PAIRS)))
        for i, a in enumerate(accounts):
            fam_max = np.zeros(len(FAMILIES))
            for det, sc in scores.get(a, {}).items():
                if det in col:
                    x[i, col[det]] = sc
                    j = fam_index.get(model.family(det))
                    if j is not None and model.interacts(det):
                        fam_max[j] = max(fam_max[j], sc)
            c = member_cluster_score(a, cluster_of, cluster_score, outliers, ties)
            x[i, len(detectors)] = c
            fam_max[fam_index["coordination"]] = max(fam_max[fam_index["coordination"]], c)
            for k, pair in enumerate(PAIRS):
                fa, fb = pair.split("|")
                x[i, len(detectors) + 1 + k] = fam_max[fam_index[fa]] * fam_max[fam_index[fb]]
        rows.append(x)
        ys.append(labels)
    return np.vstack(rows), np.concatenate(ys)


def fit_nonnegative_logistic(
    x: np.ndarray,
    y: np.ndarray,
    l2: float = 0.1,
    fixed_zero: list[int] | None = None,
    fixed: dict[int, float] | None = None,
    bias: float | None = None,
) -> tuple[np.ndarray, float]:
    """Logistic regression with weights >= 0 (bias free unless `bias` is given): minimise
    log-loss + l2 * |w|^2 / 2. Columns listed in `fixed_zero` keep a weight of 0, those in `fixed`
    the given weight (and are not penalised)."""
    n, d = x.shape
    fixed = {**{i: 0.0 for i in fixed_zero or ()}, **(fixed or {})}
    free = np.array([i not in fixed for i in range(d)], dtype=float)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        z = x @ w + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        eps = 1e-12
        value = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)) + 0.5 * l2 * (free * w) @ w
        g = p - y
        grad = np.concatenate([x.T @ g / n + l2 * free * w, [g.mean()]])
        return value, grad

    theta0 = np.concatenate([np.full(d, 0.5), [-3.0 if bias is None else bias]])
    bounds = [(fixed[i], fixed[i]) if i in fixed else (0.0, None) for i in range(d)]
    bounds.append((None, None) if bias is None else (bias, bias))
    for i, v in fixed.items():
        theta0[i] = v
    res = minimize(loss, theta0, jac=True, bounds=bounds, method="L-BFGS-B")
    return res.x[:d], float(res.x[d])


def _totals(ts: TrainingSet, model: FusionModel) -> tuple[np.ndarray, np.ndarray, list[str]]:
    totals, ys, groups = [], [], []
    per_world = zip(ts.findings, ts.cluster_of, ts.accounts, ts.labels, ts.groups, strict=True)
    for findings, cluster_of, accounts, labels, grp in per_world:
        scores, _, cluster_score = account_scores(findings)
        outliers = volume_outliers(findings)
        ties = member_ties(findings)
        for a in accounts:
            total, _ = model.evidence(
                scores.get(a, {}), member_cluster_score(a, cluster_of, cluster_score, outliers, ties)
            )
            totals.append(total)
        ys.append(labels)
        groups += grp
    return np.array(totals), np.concatenate(ys), groups


def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit risk = sigmoid(a * z + b) to labels by maximum likelihood (a > 0)."""
    w, b = fit_nonnegative_logistic(z.reshape(-1, 1), y, l2=1e-4)
    return max(float(w[0]), 1e-3), b


def choose_threshold(
    risk: np.ndarray, y: np.ndarray, groups: list[str], max_fpr: float = 0.001, safety_logit: float = 1.0
) -> float:
    """The lowest threshold whose false-positive rate on the training worlds is at most `max_fpr`
    overall and 5x that for every legitimate group, moved `safety_logit` further up in log-odds
    (the line should not sit on the last training false positive), rounded, kept in [0.5, 0.95]."""
    legit = y == 0
    groups_arr = np.array(groups)
    chosen = 0.95
    for t in np.unique(np.concatenate([risk, [0.5]])):
        if t < 0.5:
            continue
        flagged = risk >= t
        if flagged[legit].mean() > max_fpr:
            continue
        if all(flagged[legit & (groups_arr == g)].mean() <= 5 * max_fpr for g in set(groups_arr[legit])):
            chosen = float(t)
            break
    shifted = 1.0 / (1.0 + np.exp(-(logit(chosen) + safety_logit)))
    return float(min(0.95, max(0.5, np.ceil(shifted * 100) / 100)))


def train(
    worlds: list[Path],
    scan_suffix: str = "_scan",
    l2: float = 0.03,
    command: str | None = None,
    scans: list[Path] | None = None,
    keep: FusionModel | None = None,
    keep_calibration: bool = False,
) -> tuple[FusionModel, dict]:
    """Fit weights, caps, calibration and threshold on the given training worlds (scanned in
    `scans`, else in `<world><scan_suffix>`; a world may appear twice, scanned two ways).

    With `keep` (an incremental refit), the weights that model has for detectors, the cluster
    score and the family pairs stay as they are; only detectors it does not know and the bias are
    fitted, then calibration, caps and threshold are redone as always. A new detector then adds
    its evidence without re-balancing weights that other evidence paths (ones the training worlds
    rarely show, such as an unlinked pool with rotated clients) depend on.

    With `keep_calibration` as well, the bias, calibration, caps and threshold of `keep` stay too:
    only the new detectors' weights are fitted, so that no account without their findings changes
    verdict. Re-calibrating on another set of worlds moves the decision line for every account; a
    new detector that fires on a handful of them should not.
    """
    from distillguard.detect import registry

    ts = TrainingSet([], [], [], [], [])
    scans = scans or [Path(str(w) + scan_suffix) for w in worlds]
    for w, s in zip(worlds, scans, strict=True):
        f, c, a, y, g = load_world(w, s)
        ts.findings.append(f)
        ts.cluster_of.append(c)
        ts.accounts.append(a)
        ts.labels.append(y)
        ts.groups.append(g)
    base = shipped()
    detectors = sorted(d for d, cls in registry().items() if cls.subject_kind == "account")
    x, y = design(ts, detectors, base)
    zero = [i for i, d in enumerate(detectors) if d in base.pair_only or d in base.context_only]
    zero += [len(detectors) + 1 + k for k, p in enumerate(PAIRS) if p in base.pairs_off]
    n = len(detectors)
    fixed: dict[int, float] = {}
    if keep is not None:
        fixed = {i: keep.weights[d] for i, d in enumerate(detectors) if d in keep.weights}
        fixed[n] = keep.cluster_weight
        fixed.update({n + 1 + k: keep.pair_weights.get(p, 0.0) for k, p in enumerate(PAIRS)})
    if keep_calibration and keep is None:
        raise ValueError("keep_calibration needs the model whose calibration to keep")
    bias = keep.bias if keep_calibration and keep is not None else None
    w, b = fit_nonnegative_logistic(x, y, l2=l2, fixed_zero=zero, fixed=fixed, bias=bias)
    model = replace(
        base,
        weights={d: round(float(v), 4) for d, v in zip(detectors, w[:n], strict=True)},
        cluster_weight=round(float(w[n]), 4),
        pair_weights={p: round(float(v), 4) for p, v in zip(PAIRS, w[n + 1 :], strict=True)},
        bias=round(b, 4),
        default_weight=0.0,
        family_caps={},
        platt_a=1.0,
        platt_b=0.0,
    )
    # Calibrate and choose the threshold; then make sure that no single family of evidence (nor the
    # cluster score alone) can cross it: a family's main effects are capped below the margin and the
    # model re-calibrated, a few rounds until the threshold settles.
    threshold = 0.5
    if keep_calibration and keep is not None:
        threshold = keep.threshold
        model = replace(model, platt_a=keep.platt_a, platt_b=keep.platt_b, family_caps=dict(keep.family_caps))
    for _ in range(0 if keep_calibration else 6):
        z, yy, groups = _totals(ts, model)
        a, bb = platt(model.logit(z), yy)
        model = replace(model, platt_a=round(a, 4), platt_b=round(bb, 4))
        threshold = choose_threshold(model.risk(z), yy, groups)
        margin = (logit(threshold) - model.platt_b) / model.platt_a - model.bias
        caps = {fam: round(CAP_SHARE * margin, 4) for fam in FAMILIES}
        if caps == model.family_caps:
            break
        model = replace(
            model, family_caps=caps, cluster_weight=min(model.cluster_weight, caps["coordination"])
        )
    model = replace(model, threshold=threshold)
    z, yy, groups = _totals(ts, model)
    risk = model.risk(z)
    flagged = risk >= threshold
    report = {
        "worlds": [Path(s).name.replace("_scan", "") for s in scans],
        "accounts": len(yy),
        "campaign_accounts": int(yy.sum()),
        "train_recall": round(float(flagged[yy == 1].mean()), 4),
        "train_fpr": round(float(flagged[yy == 0].mean()), 5),
        "threshold": threshold,
    }
    model = replace(
        model,
        provenance={
            "method": "non-negative L2 logistic regression over detector scores, cluster score and "
            "family-pair interactions; Platt calibration",
            "command": command
            or "python -m distillguard.decide.train " + " ".join(Path(w).name for w in worlds),
            "l2": l2,
            "kept_weights_of": (keep.provenance or {}).get("command") if keep is not None else None,
            "kept_calibration": keep_calibration,
            **report,
        },
    )
    return model, report


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "worlds",
        nargs="+",
        type=Path,
        help="world directories (scanned in <world><scan-suffix>), or scan directories <world>_scan*",
    )
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--scan-suffix", default="_scan")
    ap.add_argument("--l2", type=float, default=0.03)
    ap.add_argument("--keep", type=Path, default=None, help="fusion.json whose weights stay (incremental)")
    ap.add_argument(
        "--keep-calibration",
        action="store_true",
        help="with --keep: keep its bias, calibration, caps and threshold too; fit only new weights",
    )
    args = ap.parse_args(argv)
    worlds, scans = [], []
    for w in args.worlds:
        if "_scan" in w.name:  # a scan directory: its world is the name before "_scan"
            worlds.append(w.with_name(w.name.split("_scan")[0]))
            scans.append(w)
        else:
            worlds.append(w)
            scans.append(Path(str(w) + args.scan_suffix))
    keep = FusionModel.from_json(args.keep) if args.keep else None
    command = "python -m distillguard.decide.train " + " ".join(argv if argv is not None else sys.argv[1:])
    model, report = train(
        worlds,
        args.scan_suffix,
        args.l2,
        command=command,
        scans=scans,
        keep=keep,
        keep_calibration=args.keep_calibration,
    )
    model.to_json(args.out)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
