"""Detection quality: simulate -> scan -> evaluate on held-out worlds, plus the Glasswally peer file.

    # the quality table of docs/detection.md (eval split, seeds >= 1000: never used for tuning)
    python bench/quality.py eval --scenarios reference,stealth,quick --seeds 1000,1001

    # training worlds (split=train, seeds < 1000) and the fusion fit shipped in decide/fusion.json
    python bench/quality.py train --fit --worlds quick:2:1,quick:3:1,quick:4:1,quick:5:1,quick:6:1,\
        quick:7:1,reference:1:0.3,reference:2:0.3,stealth:1:0.3,stealth:2:0.3

Worlds and scans are cached under --root (default bench/.data/quality); --rescan re-runs the
stages after ingest (features, link, detect, decide) on the cached stores, which is what changes
when detection changes. The table goes to bench/results/quality.md (and .json).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
GLASSWALLY = ROOT.parents[1] / "shared" / "peers" / "glasswally_labeled_5k.jsonl"
NOTES: list[str] = []  # deviations from the default scan, printed under the table
TARGETS = {
    "account_recall": 0.99,
    "campaign_recall": 0.95,
    "fpr": 0.001,
    "archetype_fpr": 0.005,
    "ari": 0.9,
    "exchange_attribution": 0.99,
}


def world(scenario: str, seed: int, split: str, scale: float, root: Path) -> Path:
    """Simulate one world (cached)."""
    from distillguard.simulate import simulate

    name = Path(scenario).stem if scenario.endswith((".yaml", ".yml")) else scenario
    out = root / f"{name}-{split}-{seed}-x{scale:g}"
    if not (out / "manifest.json").is_file():
        simulate(scenario, out, scale=scale, seed=seed, split=split)
    return out


def scan_dir(world_dir: Path, accounts: bool = True) -> Path:
    """Where the scan of a world goes: `<world>_scan`, or `<world>_scan-noacc` from exchanges alone."""
    return Path(str(world_dir) + ("_scan" if accounts else "_scan-noacc"))


def scan(world_dir: Path, rescan: bool, accounts: bool = True) -> Path:
    """Scan a world (cached); with `rescan`, re-run the stages after ingest on the cached store.
    Without `accounts`, the scan reads the exchanges alone (no account records)."""
    from distillguard.config import ScanConfig
    from distillguard.pipeline import run_scan

    out = scan_dir(world_dir, accounts)
    if not (out / "summary.json").is_file():
        acc = world_dir / "accounts.jsonl" if accounts else None
        run_scan([world_dir / "exchanges.jsonl"], out, accounts=acc, config=ScanConfig())
    elif rescan:
        redetect(out)
    return out


def redetect(scan_dir: Path) -> dict[str, float]:
    """Re-run features -> link -> detect -> decide on a finished scan's store; rewrite its outputs."""
    from distillguard import decide, detect, features, link, outputs, store
    from distillguard.config import ScanConfig

    config = ScanConfig()
    con = store.connect(scan_dir / "store")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    store.write_table(scan_dir / "store", "account_features", features.materialize(con))
    store.refresh_views(con, scan_dir / "store")
    timings["features"] = time.perf_counter() - t
    t = time.perf_counter()
    try:
        linkage = link.link_accounts(con, config.link)
    except IndexError as exc:  # a link-stage failure on one world: retry with every account fingerprinted
        print(
            f"{scan_dir.name}: link stage failed ({exc}); retrying with fingerprint_min_exchanges=1",
            file=sys.stderr,
        )
        NOTES.append(
            f"{scan_dir.name}: link stage raised `IndexError: {exc}`; "
            "linked with `fingerprint_min_exchanges: 1`"
        )
        linkage = link.link_accounts(con, {**config.link, "fingerprint_min_exchanges": 1})
    timings["link"] = time.perf_counter() - t
    ctx = detect.DetectionContext(con=con, linkage=linkage, config=config.detect)
    t = time.perf_counter()
    findings = detect.run_detectors(ctx)
    timings["detect"] = time.perf_counter() - t
    verdicts = decide.fuse(findings, ctx, threshold=config.threshold)
    outputs.write_table_csv(verdicts.accounts, outputs.ACCOUNT_COLUMNS, scan_dir / "accounts.csv")
    outputs.write_table_csv(verdicts.clusters, outputs.CLUSTER_COLUMNS, scan_dir / "clusters.csv")
    outputs.write_findings(findings, scan_dir / "findings.jsonl")
    summary_path = scan_dir / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["threshold"] = config.threshold
    summary["flagged_accounts"] = int(sum(verdicts.accounts["flagged"].to_pylist()))
    outputs.write_summary(summary, summary_path)
    con.close()
    return timings


def glasswally(root: Path, rescan: bool) -> dict[str, Any]:
    """Scan the Glasswally labelled file with its mapping; account-level agreement with its labels."""
    import csv

    from distillguard.config import ScanConfig
    from distillguard.pipeline import run_scan

    out = root / "glasswally_scan"
    if not (out / "summary.json").is_file():
        run_scan([GLASSWALLY], out, config=ScanConfig(mapping="glasswally"))
    elif rescan:
        redetect(out)
    label: dict[str, str | None] = {}
    with GLASSWALLY.open() as fh:
        for line in fh:
            r = json.loads(line)
            label[r["account_id"]] = label.get(r["account_id"]) or r.get("campaign_label")
    with (out / "accounts.csv").open() as fh:
        flagged = {r["account_id"]: r["flagged"] == "true" for r in csv.DictReader(fh)}
    campaign = [a for a, v in label.items() if v]
    legit = [a for a, v in label.items() if not v]
    per_campaign = defaultdict(list)
    for a in campaign:
        per_campaign[label[a]].append(flagged.get(a, False))
    return {
        "accounts": len(label),
        "campaign_accounts": len(campaign),
        "recall": sum(flagged.get(a, False) for a in campaign) / max(1, len(campaign)),
        "false_positives": sum(flagged.get(a, False) for a in legit),
        "fpr": sum(flagged.get(a, False) for a in legit) / max(1, len(legit)),
        "campaign_recall": {c: sum(v) / len(v) for c, v in sorted(per_campaign.items())},
    }


def _row(name: str, rep: Any) -> dict[str, Any]:
    d = rep.to_dict()
    acc = d["accounts"]
    out = {
        "world": name,
        "accounts": sum(acc.get(k, 0) for k in ("tp", "fp", "fn", "tn")),
        "account_recall": acc.get("recall"),
        "fpr": acc.get("fpr"),
        "precision": acc.get("precision"),
        "roc_auc": (d.get("ranking") or {}).get("roc_auc"),
        "campaigns": {c["campaign_id"]: c.get("recall") for c in d.get("campaigns", [])},
        "archetype_fpr": {a["archetype"]: a.get("rate") for a in d.get("archetypes", [])},
        "ari": (d.get("clusters") or {}).get("ari_campaign_accounts"),
        "ari_all": (d.get("clusters") or {}).get("ari_all_accounts"),
        "exchange_attribution": _attributed(d.get("exchanges") or {}),
    }
    return out


def reliability(
    worlds: list[Path],
    scans: list[Path],
    bins: tuple[float, ...] = (0.0, 0.05, 0.2, 0.5, 0.8, 0.95, 1.0001),
) -> str:
    """Calibration on held-out worlds: per risk bin, accounts, mean risk, observed campaign share."""
    import csv

    risk, label = [], []
    for w, s in zip(worlds, scans, strict=True):
        truth = {}
        with (w / "truth.jsonl").open() as fh:
            for line in fh:
                t = json.loads(line)
                truth[t["account_id"]] = t["label"] == "campaign"
        with (s / "accounts.csv").open() as fh:
            for r in csv.DictReader(fh):
                if r["account_id"] in truth:
                    risk.append(float(r["risk"]))
                    label.append(truth[r["account_id"]])
    lines = ["| risk bin | accounts | mean risk | campaign share |", "| --- | --- | --- | --- |"]
    for lo, hi in itertools.pairwise(bins):
        idx = [i for i, r in enumerate(risk) if lo <= r < hi]
        if not idx:
            continue
        mean_r = sum(risk[i] for i in idx) / len(idx)
        share = sum(label[i] for i in idx) / len(idx)
        lines.append(f"| [{lo:.2f}, {min(hi, 1):.2f}) | {len(idx)} | {mean_r:.3f} | {share:.3f} |")
    return "\n".join(lines) + "\n"


def _attributed(ex: dict[str, Any]) -> float | None:
    per = ex.get("per_campaign") or {}
    total = sum(v["exchanges"] for v in per.values())
    return sum(v["attributed"] for v in per.values()) / total if total else None


def _fmt(v: Any, target: float | None = None, lower_is_better: bool = False) -> str:
    if v is None:
        return "n/a"
    miss = target is not None and ((v > target) if lower_is_better else (v < target))
    text = f"{v:.4f}" if isinstance(v, float) else str(v)
    return f"**{text}** (miss)" if miss else text


def markdown(rows: list[dict[str, Any]], gw: dict[str, Any] | None, command: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        "| world | accounts | account recall | FPR | worst campaign recall | worst archetype FPR "
        "| ARI campaign accounts (all accounts) | campaign exchanges attributed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        worst_c = min(
            r["campaigns"].items(), key=lambda kv: kv[1] if kv[1] is not None else 1, default=("-", None)
        )
        worst_a = max(
            r["archetype_fpr"].items(), key=lambda kv: kv[1] if kv[1] is not None else 0, default=("-", None)
        )
        lines.append(
            f"| {r['world']} | {r['accounts']} | {_fmt(r['account_recall'], TARGETS['account_recall'])} "
            f"| {_fmt(r['fpr'], TARGETS['fpr'], True)} "
            f"| {worst_c[0]}: {_fmt(worst_c[1], TARGETS['campaign_recall'])} "
            f"| {worst_a[0]}: {_fmt(worst_a[1], TARGETS['archetype_fpr'], True)} "
            f"| {_fmt(r['ari'], TARGETS['ari'])} ({_fmt(r['ari_all'])}) "
            f"| {_fmt(r['exchange_attribution'], TARGETS['exchange_attribution'])} |"
        )
    if gw:
        lines += [
            "",
            f"Glasswally peer file ({gw['accounts']} accounts, {gw['campaign_accounts']} in campaigns): "
            f"account recall {gw['recall']:.3f}, false positives {gw['false_positives']} "
            f"(FPR {gw['fpr']:.4f}); per campaign: "
            + ", ".join(f"{c} {v:.2f}" for c, v in gw["campaign_recall"].items()),
        ]
    lines += ["", *[f"Note: {n}" for n in NOTES]] if NOTES else []
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["eval", "train"])
    ap.add_argument("--scenarios", default="reference,stealth,quick")
    ap.add_argument(
        "--seeds", default=None, help="comma-separated; default 1000,1001 (eval) or 1,2,3 (train)"
    )
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument(
        "--worlds",
        default=None,
        help="scenario:seed:scale[:noacc],... instead of --scenarios/--seeds/--scale; a scenario may be "
        "a YAML file (e.g. bench/holdout/slow-forwarders.yaml, train split and seeds < 1000 only for "
        "tuning); noacc scans the exchanges alone",
    )
    ap.add_argument("--root", type=Path, default=ROOT / ".data" / "quality")
    ap.add_argument("--rescan", action="store_true", help="re-run features..decide on cached scans")
    ap.add_argument("--fit", action="store_true", help="train mode: fit the fusion model afterwards")
    ap.add_argument("--l2", type=float, default=0.03, help="train mode: L2 penalty of the fusion fit")
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="train mode: a fusion.json whose detector, cluster and pair weights stay fixed "
        "(an incremental refit: only new detectors' weights and the bias are fitted)",
    )
    ap.add_argument("--fusion-out", type=Path, default=ROOT.parent / "src/distillguard/decide/fusion.json")
    ap.add_argument("--no-glasswally", action="store_true")
    args = ap.parse_args(argv)
    split = args.mode
    seeds = [int(s) for s in (args.seeds or ("1000,1001" if split == "eval" else "1,2,3")).split(",")]
    args.root.mkdir(parents=True, exist_ok=True)
    if args.worlds:
        specs = []
        for w in args.worlds.split(","):
            sc, se, x, *flags = w.split(":")
            specs.append((sc, int(se), float(x), "noacc" not in flags))
    else:
        specs = [(sc, seed, args.scale, True) for sc in args.scenarios.split(",") for seed in seeds]
    bad = [sp for sp in specs if (sp[1] >= 1000) != (split == "eval")]
    if bad:
        ap.error(f"{split} worlds need seeds {'>=' if split == 'eval' else '<'} 1000: {bad}")
    worlds, scans = [], []
    for scenario, seed, scale, accounts in specs:
        w = world(scenario, seed, split, scale, args.root)
        scans.append(scan(w, args.rescan, accounts))
        worlds.append(w)
        print(f"scanned {scans[-1].name}", file=sys.stderr, flush=True)
    if split == "train":
        if args.fit:
            from distillguard.decide.train import train

            command = "python bench/quality.py " + " ".join(argv if argv is not None else sys.argv[1:])
            from distillguard.decide.model import FusionModel

            keep = FusionModel.from_json(args.keep) if args.keep else None
            model, report = train(worlds, l2=args.l2, command=command, scans=scans, keep=keep)
            model.to_json(args.fusion_out)
            print(json.dumps(report, indent=2))
        return 0
    from distillguard.evaluate import evaluate

    rows = [
        _row(s.name.replace("_scan", ""), evaluate(w / "truth.jsonl", s))
        for w, s in zip(worlds, scans, strict=True)
    ]
    gw = None if args.no_glasswally else glasswally(args.root, args.rescan)
    command = "python bench/quality.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = markdown(rows, gw, command)
    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    (results / "quality.md").write_text(text)
    (results / "reliability.md").write_text(reliability(worlds, scans))
    (results / "quality.json").write_text(json.dumps({"worlds": rows, "glasswally": gw}, indent=2) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
