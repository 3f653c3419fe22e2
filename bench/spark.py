"""Throughput of the Spark engine against the embedded engine on the same exchange log.

Both engines run the scan's map and reduce steps over one JSON Lines file: ingest (parse,
normalize, signals, duplicates), templates and account features. The driver stages after them
(link, detect, decide, outputs) are the same code on the same store whichever engine ran, so
they are left out. Each engine runs in a child process; its peak resident memory is that
process tree's (for Spark in local mode: the Python driver, the JVM that runs the executors, and
the Python workers), sampled from /proc.

    python bench/spark.py --exchanges 1000000            # writes bench/results/spark.json
    python bench/spark.py --exchanges 50000 --out /tmp/spark-50k.json

The input is bench/.data/own-N.jsonl, made by bench/gen_exchanges.py when absent (the same file
bench/scan.py uses).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from proctree import run_sampled  # bench/ is on sys.path when a benchmark runs as a script

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results"


def make_input(exchanges: int) -> Path:
    """bench/.data/own-N.jsonl, generated once."""
    path = DATA / f"own-{exchanges}.jsonl"
    if not path.is_file():
        sys.path.insert(0, str(ROOT / "bench"))
        from gen_exchanges import generate

        generate(path, exchanges)
    return path


def run_child(engine: str, log: Path, out: Path, master: str) -> dict[str, Any]:
    """Run one engine in a child process; return its report plus wall, peak RSS and CPU."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, __file__, "--child", engine, "--input", str(log), "--store", str(out)]
    cmd += ["--master", master]
    run = run_sampled(cmd, interval_s=0.2)
    if run.returncode != 0:
        raise SystemExit(f"{engine} run failed ({run.returncode}):\n{run.stderr[-3000:]}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    result.update(
        wall_s=round(run.wall_s, 2), peak_rss_mb=run.peak_rss_bytes // 2**20, cpu_s=round(run.cpu_s, 1)
    )
    return result


def child(engine: str, log: Path, store_dir: Path, master: str) -> None:
    """The measured work: one engine's map and reduce steps into `store_dir`."""
    stages: dict[str, float] = {}
    started = time.perf_counter()
    if engine == "spark":
        from distillguard.engines.session import get_session
        from distillguard.engines.spark import run_map_reduce

        t = time.perf_counter()
        get_session(master)
        stages["session"] = time.perf_counter() - t
        t = time.perf_counter()
        report = run_map_reduce([log], store_dir, master=master)
        stages["map_reduce"] = time.perf_counter() - t
    else:
        from distillguard import store
        from distillguard.features import materialize
        from distillguard.ingest import ingest_paths
        from distillguard.signals import assign_templates

        t = time.perf_counter()
        report = ingest_paths([log], store_dir)
        stages["ingest"] = time.perf_counter() - t
        t = time.perf_counter()
        con = store.connect(store_dir)
        store.write_table(store_dir, "templates", assign_templates(con))
        store.refresh_views(con, store_dir)
        stages["templates"] = time.perf_counter() - t
        t = time.perf_counter()
        store.write_table(store_dir, "account_features", materialize(con))
        stages["features"] = time.perf_counter() - t
    counts = {k: getattr(report, k) for k in ("input_records", "exchanges", "rejected", "duplicates")}
    stages = {k: round(v, 2) for k, v in stages.items()}
    print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "stages": stages, **counts}))


def feature_difference(a: Path, b: Path) -> dict[str, Any]:
    """Largest absolute difference of any numeric account feature between two stores."""
    import pyarrow.parquet as pq

    fa = pq.read_table(a / "account_features.parquet")
    fb = pq.read_table(b / "account_features.parquet")
    worst, unequal = 0.0, 0
    common = [n for n in fa.schema.names if n in fb.schema.names]
    if fa.num_rows != fb.num_rows:
        return {"accounts": [fa.num_rows, fb.num_rows], "comparable": False}
    for name in common:
        for x, y in zip(fa.column(name).to_pylist(), fb.column(name).to_pylist(), strict=True):
            if isinstance(x, float) and isinstance(y, float) and not (math.isnan(x) and math.isnan(y)):
                worst = max(worst, abs(x - y))
            elif x != y and not (isinstance(x, float) or isinstance(y, float)):
                unequal += 1
    return {
        "accounts": fa.num_rows,
        "max_abs_difference": worst,
        "unequal_values": unequal,
        # the feature definition may change between the two runs of a long benchmark
        "columns_not_in_both": sorted(set(fa.schema.names) ^ set(fb.schema.names)),
    }


def store_sizes(store_dir: Path) -> dict[str, float]:
    """Bytes per exchange of the exchange store (zstd Parquet) and in memory; bytes per account row."""
    import pyarrow.parquet as pq

    on_disk = sum(p.stat().st_size for p in (store_dir / "exchanges").glob("*.parquet"))
    exchanges = pq.read_table(store_dir / "exchanges")
    features = pq.read_table(store_dir / "account_features.parquet")
    return {
        "store_bytes_per_exchange": round(on_disk / max(exchanges.num_rows, 1), 1),
        "arrow_bytes_per_exchange": round(exchanges.nbytes / max(exchanges.num_rows, 1), 1),
        "feature_bytes_per_account": round(features.nbytes / max(features.num_rows, 1), 1),
        "accounts": features.num_rows,
    }


# Assumptions of the projection (stated in the results and in docs/spark.md).
EFFICIENCY = 0.7  # share of a cluster core doing useful work (stragglers, skew, scheduling)
CORES_PER_EXECUTOR = 4
WINDOWS_H = (1.0, 4.0)  # time allowed to scan one day of logs


def project(result: dict[str, Any]) -> dict[str, Any]:
    """Cores, executors, shuffle and driver memory for 16M and 1B exchanges a day.

    Compute is scaled from the CPU seconds per exchange measured for Spark here (whole process
    tree: JVM, Python workers, driver; fixed start-up costs included, so it errs high).
    """
    spark = result["engines"]["spark"]
    cpu_per_exchange = spark["cpu_s"] / spark["input_records"]
    sizes = result["sizes"]
    rows = []
    for volume in (16_000_000, 1_000_000_000):
        core_s = volume * cpu_per_exchange
        for window in WINDOWS_H:
            cores = math.ceil(core_s / (window * 3600 * EFFICIENCY))
            rows.append(
                {
                    "exchanges_per_day": volume,
                    "window_h": window,
                    "core_hours": round(core_s / 3600, 1),
                    "cores": cores,
                    "executors": math.ceil(cores / CORES_PER_EXECUTOR),
                    # duplicates window + input-order sort: each moves every exchange row once
                    "shuffle_gb": round(2 * volume * sizes["arrow_bytes_per_exchange"] / 1e9, 1),
                    "store_gb": round(volume * sizes["store_bytes_per_exchange"] / 1e9, 1),
                }
            )
    accounts = {
        n: round(n * sizes["feature_bytes_per_account"] / 1e9, 2) for n in (100_000, 1_000_000, 5_000_000)
    }
    return {
        "cpu_s_per_exchange": round(cpu_per_exchange, 5),
        "assumptions": {
            "efficiency": EFFICIENCY,
            "cores_per_executor": CORES_PER_EXECUTOR,
            "shuffle": "two shuffles of the exchange rows (no bodies), at their uncompressed Arrow size",
        },
        "rows": rows,
        "driver_feature_table_gb_by_accounts": accounts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Spark engine against the embedded engine.")
    parser.add_argument("--exchanges", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--out", type=Path, default=RESULTS / "spark.json")
    parser.add_argument("--child", choices=("duckdb", "spark"), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.input, args.store, args.master)
        return

    log = make_input(args.exchanges)
    # In local mode the executors live in the driver's JVM: give it room for 2 tasks' shuffles.
    os.environ.setdefault("DISTILLGUARD_SPARK_DRIVER_MEMORY", "3g")
    work = DATA / f"spark-bench-{args.exchanges}"
    load_before = os.getloadavg()
    # Spark first: on a crowded machine its longer run should not be the one cut short.
    runs = {}
    for engine in ("spark", "duckdb"):
        runs[engine] = run_child(engine, log, work / engine, args.master)
        print(json.dumps({engine: runs[engine]}), file=sys.stderr, flush=True)  # kept if a later step fails
    for run in runs.values():
        run["exchanges_per_s"] = round(run["input_records"] / run["seconds"], 1)
    counts = ("input_records", "exchanges", "rejected", "duplicates")
    result = {
        "command": f"python bench/spark.py --exchanges {args.exchanges} --master {args.master}",
        "input": {"path": str(log.relative_to(ROOT)), "bytes": log.stat().st_size, "records": args.exchanges},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "spark_driver_memory": os.environ["DISTILLGUARD_SPARK_DRIVER_MEMORY"],
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "engines": runs,
        "spark_over_embedded_time": round(runs["spark"]["seconds"] / runs["duckdb"]["seconds"], 2),
        "same_counts": all(runs["spark"][k] == runs["duckdb"][k] for k in counts),
        "features": feature_difference(work / "duckdb", work / "spark"),
        "sizes": store_sizes(work / "spark"),
    }
    result["projection"] = project(result)
    shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
