"""Benchmarks of the link stage: speed on a large synthetic account table, quality on simulated worlds.

    python bench/link.py speed [--accounts 20000 --exchanges 1000000]
    python bench/link.py quality --scenario quick --split eval --seeds 1000 1001 1002

`speed` builds an exchange table directly with numpy (no JSON, no ingest) and times
`link_accounts`, reporting wall time per step, the resident memory before it (the input tables)
and the peak during it (on Linux; elsewhere the process's peak, world building included).
`quality` simulates each world (split and seed as given), scans it once with the default
pipeline, re-runs `link_accounts` on the scan's store and compares clusters with the truth.
Tune only with `--split train` and seeds < 1000; report with `--split eval` and seeds >= 1000.
`bench/link_regression.py` checks that a change leaves a scan's Linkage exactly as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from sklearn.metrics import adjusted_rand_score

from distillguard.link import link_accounts

TS = pa.timestamp("us", tz="UTC")


def synthetic_exchanges(n_accounts: int, n_exchanges: int, seed: int = 0) -> tuple[pa.Table, pa.Table, dict]:
    """A day of traffic: 95% unrelated accounts (shared benchmarks, common user agents, cloud
    ranges), 5% in campaigns of 50-400 accounts with shared blocks, templates and lockstep."""
    rng = np.random.default_rng(seed)
    n_camp_accounts = n_accounts // 20
    sizes = []
    while sum(sizes) < n_camp_accounts:
        sizes.append(int(rng.integers(50, 400)))
    sizes[-1] -= sum(sizes) - n_camp_accounts
    campaign_of = np.full(n_accounts, -1)
    campaign_of[n_accounts - n_camp_accounts :] = np.repeat(np.arange(len(sizes)), sizes)
    volume = rng.pareto(1.5, n_accounts) + 1
    volume[campaign_of >= 0] *= 4  # harvest accounts run at full throughput
    acct = rng.choice(n_accounts, n_exchanges, p=volume / volume.sum())
    camp = campaign_of[acct]
    is_camp = camp >= 0
    day = 86_400.0
    ts = rng.uniform(0, day, n_exchanges)
    # Campaign dispatch: the pool works in bursts, everybody inside the same minutes.
    ts[is_camp] = (
        rng.integers(0, 200, is_camp.sum()) * 430.0 + camp[is_camp] * 13.0 + rng.uniform(0, 20, is_camp.sum())
    ) % day
    ip = np.array([f"{a}.{b}.{c}.{d}" for a, b, c, d in rng.integers(1, 250, (n_exchanges, 4))], dtype=object)
    cloud = rng.random(n_exchanges) < 0.3  # serverless and NAT traffic from a few cloud ranges
    ip[cloud] = [
        f"34.{b}.{c}.{d}"
        for b, c, d in zip(
            rng.integers(0, 4, cloud.sum()),
            rng.integers(0, 8, cloud.sum()),
            rng.integers(1, 250, cloud.sum()),
            strict=True,
        )
    ]
    ip[is_camp] = [
        f"45.{c}.{b}.{d}"
        for c, b, d in zip(
            camp[is_camp], rng.integers(0, 3, is_camp.sum()), rng.integers(1, 250, is_camp.sum()), strict=True
        )
    ]
    ua = rng.choice(
        ["python-requests/2.31.0", "anthropic-python/0.40.0", "openai-python/1.55.0", "curl/8.5.0"],
        n_exchanges,
    ).astype(object)
    template = np.array(
        [f"own-{a}-{k}" for a, k in zip(acct, rng.integers(0, 40, n_exchanges), strict=True)], dtype=object
    )
    bench = rng.random(n_exchanges) < 0.15
    template[bench] = [f"benchmark-{k}" for k in rng.integers(0, 500, bench.sum())]
    template[is_camp] = [
        f"campaign-{c}-{k}" for c, k in zip(camp[is_camp], rng.integers(0, 12, is_camp.sum()), strict=True)
    ]
    order = np.argsort(ts, kind="stable")
    start = np.datetime64("2026-02-01T00:00:00", "us")
    table = pa.table(
        {
            "exchange_id": pa.array([f"x{i}" for i in range(n_exchanges)]).take(order),
            "ts": pa.array(start + (ts * 1e6).astype("timedelta64[us]"), TS).take(order),
            "account_id": pa.array([f"acct{a}" for a in acct]).take(order),
            "client_ip": pa.array(ip).take(order),
            "user_agent": pa.array(ua).take(order),
            "template_id": pa.array(template).take(order),
            "capability": pa.array(np.where(is_camp, "coding", "chat")).take(order),
            "model": pa.array(np.full(n_exchanges, "model-1")).take(order),
            "temperature": pa.array(np.where(is_camp, 0.0, rng.choice([0.0, 0.7, 1.0], n_exchanges))).take(
                order
            ),
            "max_tokens": pa.array(np.where(is_camp, 8192, rng.choice([256, 1024, 4096], n_exchanges))).take(
                order
            ),
        }
    )
    payment = np.array([f"pm-{i}" for i in range(n_accounts)], dtype=object)
    shared = (campaign_of >= 0) & (rng.random(n_accounts) < 0.5)
    payment[shared] = [f"pm-campaign-{c}" for c in campaign_of[shared]]
    accounts = pa.table(
        {"account_id": [f"acct{i}" for i in range(n_accounts)], "payment_fingerprint": payment}
    )
    truth = {f"acct{i}": (f"campaign-{c}" if c >= 0 else None) for i, c in enumerate(campaign_of)}
    return table, accounts, truth


def quality(truth: dict[str, str | None], cluster_of: dict[str, str]) -> dict[str, Any]:
    """Cluster agreement with the true campaigns, per-campaign recall and legit accounts drawn in."""
    ids = sorted(truth)
    true_lab = [truth[a] or f"legit:{a}" for a in ids]
    found = [cluster_of.get(a) or f"alone:{a}" for a in ids]
    camp_ids = [a for a in ids if truth[a]]
    members = defaultdict(list)
    for a, c in cluster_of.items():
        if a in truth:
            members[c].append(truth[a] or "legit")
    majority = {c: Counter(m).most_common(1)[0][0] for c, m in members.items()}
    per_campaign = {}
    for camp in sorted({truth[a] for a in camp_ids}):
        accts = [a for a in camp_ids if truth[a] == camp]
        in_own = [a for a in accts if majority.get(cluster_of.get(a, "")) == camp]
        best = Counter(cluster_of.get(a) for a in accts if a in cluster_of).most_common(1)
        per_campaign[camp] = {
            "accounts": len(accts),
            "linked": round(len(in_own) / len(accts), 4),
            "largest_cluster": round(best[0][1] / len(accts), 4) if best else 0.0,
        }
    legit = [a for a in ids if not truth[a]]
    pulled = [a for a in legit if majority.get(cluster_of.get(a, ""), "legit") != "legit"]
    sizes = [len(m) for m in members.values()]
    purity = sum(Counter(m).most_common(1)[0][1] for m in members.values()) / max(1, sum(sizes))
    return {
        "ari_all": round(adjusted_rand_score(true_lab, found), 4),
        "ari_campaign_accounts": round(
            adjusted_rand_score(
                [truth[a] for a in camp_ids], [cluster_of.get(a) or f"alone:{a}" for a in camp_ids]
            ),
            4,
        )
        if camp_ids
        else None,
        "purity": round(purity, 4),
        "clusters": len(members),
        "campaigns": per_campaign,
        "legit_accounts": len(legit),
        "legit_in_campaign_clusters": len(pulled),
        "legit_in_any_cluster": sum(1 for a in legit if a in cluster_of),
    }


def run_speed(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    table, accounts, truth = synthetic_exchanges(args.accounts, args.exchanges, args.seed)
    built = time.perf_counter() - started
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.register("exchanges", table)
    con.register("accounts", accounts)
    before_mb = _reset_peak_rss()
    started, cpu = time.perf_counter(), time.process_time()
    linkage = link_accounts(con, {})
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "accounts": args.accounts,
                "exchanges": args.exchanges,
                "world_build_s": round(built, 1),
                "link_accounts_s": round(seconds, 2),
                "link_accounts_cpu_s": round(
                    cpu, 2
                ),  # all threads; the wall time depends on the machine's load
                "rss_before_link_mb": round(before_mb),  # the input tables, registered
                "peak_rss_mb": round(peak_mb),  # from the start of link_accounts where Linux allows
                "steps": linkage.stats,
                "synthetic_quality": quality(truth, linkage.cluster_of) | {"campaigns": "…"},
            },
            indent=1,
        )
    )


def _reset_peak_rss() -> float:
    """The process's resident MB now; resets its peak (Linux), so that the peak read afterwards
    is that of what runs next, not of building the synthetic world."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1024


def run_quality(args: argparse.Namespace) -> None:
    from distillguard.config import ScanConfig
    from distillguard.pipeline import run_scan
    from distillguard.simulate import simulate
    from distillguard.store import connect

    for seed in args.seeds:
        world = Path(args.work) / f"{Path(args.scenario).stem}-{args.split}-{seed}"
        if not (world / "truth.jsonl").is_file():
            simulate(args.scenario, world, scale=args.scale, seed=seed, split=args.split)
        scan = world / "scan"
        if not (scan / "store" / "templates.parquet").is_file():
            try:
                run_scan(
                    [world / "exchanges.jsonl"], scan, accounts=world / "accounts.jsonl", config=ScanConfig()
                )
            except Exception as exc:  # a later stage failing leaves the store that linkage reads intact
                if not (scan / "store" / "templates.parquet").is_file():
                    raise
                print(f"scan stopped after the store was written: {exc!r}", file=sys.stderr)
        truth = {}
        archetype = {}
        for line in (world / "truth.jsonl").read_text().splitlines():
            row = json.loads(line)
            truth[row["account_id"]] = row["campaign_id"]
            archetype[row["account_id"]] = row["archetype"]
        con = connect(scan / "store")
        config = json.loads(args.config) if args.config else {}
        started = time.perf_counter()
        linkage = link_accounts(con, config)
        result = quality(truth, linkage.cluster_of)
        result["legit_in_any_cluster_by_archetype"] = dict(
            Counter(archetype[a] for a in linkage.cluster_of if a in truth and not truth[a])
        )
        result["link_accounts_s"] = round(time.perf_counter() - started, 2)
        print(json.dumps({"scenario": args.scenario, "split": args.split, "seed": seed} | result))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    speed = sub.add_parser("speed")
    speed.add_argument("--accounts", type=int, default=20_000)
    speed.add_argument("--exchanges", type=int, default=1_000_000)
    speed.add_argument("--seed", type=int, default=0)
    qual = sub.add_parser("quality")
    qual.add_argument("--scenario", default="quick")
    qual.add_argument("--split", choices=["train", "eval"], default="train")
    qual.add_argument("--seeds", type=int, nargs="+", default=[1])
    qual.add_argument("--scale", type=float, default=1.0)
    qual.add_argument("--work", default="/tmp/distillguard-bench-link")
    qual.add_argument("--config", default="", help="link config as JSON, e.g. '{\"resolution\": 0.5}'")
    args = parser.parse_args(argv)
    if args.cmd == "quality" and args.split == "eval" and min(args.seeds) < 1000:
        sys.exit("eval worlds use seeds >= 1000 (seeds < 1000 are for tuning on train worlds)")
    run_speed(args) if args.cmd == "speed" else run_quality(args)


if __name__ == "__main__":
    main()
