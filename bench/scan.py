"""Benchmark of a full `distillguard scan`: exchanges per second, peak memory, and the ratio of the
scan's wall time to DuckDB's own time to parse and count the same file, measured in the same run.

    .venv/bin/python bench/scan.py --exchanges 80000
    .venv/bin/python bench/scan.py --exchanges 1000000 --generator own

The input comes from the simulator (`distillguard.simulate`, scenario "reference", scaled to about
the requested count) when it is installed, else from bench/gen_exchanges.py (exactly the requested
count). Inputs are cached in bench/.data/. Results go to bench/results/scan-<N>.json.

Peak memory is sampled from /proc every 50 ms over the scan's whole process tree (main process plus
map workers), and also read as the largest single process's ru_maxrss.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results"


def _have_simulator() -> bool:
    try:
        from distillguard.simulate import simulate  # noqa: F401
    except ImportError:
        return False
    return True


def make_input(exchanges: int, generator: str) -> tuple[Path, str]:
    """Return (path of a JSON Lines exchange log of about `exchanges` records, generator used)."""
    if generator == "auto":
        generator = "sim" if _have_simulator() else "own"
    if generator == "own":
        path = DATA / f"own-{exchanges}.jsonl"
        if not path.is_file():
            sys.path.insert(0, str(ROOT / "bench"))
            from gen_exchanges import generate

            generate(path, exchanges)
        return path, "own (bench/gen_exchanges.py)"
    folder = DATA / f"sim-{exchanges}"
    path = folder / "exchanges.jsonl"
    if not path.is_file():
        from distillguard.simulate import simulate

        probe = simulate("reference", DATA / "sim-probe", scale=0.05, seed=1000)
        scale = 0.05 * exchanges / max(probe.exchanges, 1)
        shutil.rmtree(DATA / "sim-probe", ignore_errors=True)
        simulate("reference", folder, scale=scale, seed=1000)
    return path, "simulator (scenario reference, seed 1000)"


def duckdb_parse_count(path: Path) -> tuple[float, int]:
    """DuckDB's own time to parse and count the file (read_json with its schema detection)."""
    con = duckdb.connect()
    started = time.perf_counter()
    (count,) = con.execute(
        "SELECT count(*) FROM read_json(?, format = 'newline_delimited', maximum_object_size = 268435456)",
        [str(path)],
    ).fetchone()
    seconds = time.perf_counter() - started
    con.close()
    return seconds, int(count)


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants, from /proc."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run_scan(path: Path, out: Path, workers: int | None) -> tuple[float, int, dict]:
    """Run the scan as a child process; return (wall seconds, peak tree RSS bytes, summary)."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "distillguard.cli", "scan", str(path), "--out", str(out), "--quiet"]
    if workers:
        cmd += ["--workers", str(workers)]
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        # The forkserver that runs the map workers is a child of the scan process, so the tree
        # walk from the scan's pid covers it.
        while not done.wait(0.05):
            peak = max(peak, _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"scan failed ({proc.returncode}): {stderr.strip()}")
    summary = json.loads((out / "summary.json").read_text())
    return seconds, peak, summary


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark a full distillguard scan.")
    parser.add_argument("--exchanges", type=int, default=80_000)
    parser.add_argument("--generator", choices=("auto", "sim", "own"), default="auto")
    parser.add_argument(
        "--workers", type=int, default=None, help="map processes (default: the scan's choice)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scan output in bench/.data/")
    args = parser.parse_args()

    path, generator = make_input(args.exchanges, args.generator)
    size = path.stat().st_size
    duck_seconds, duck_count = duckdb_parse_count(path)
    out = DATA / f"scan-out-{args.exchanges}"
    seconds, peak_tree, summary = run_scan(path, out, args.workers)
    max_single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    store_bytes = sum(f.stat().st_size for f in (out / "store").rglob("*") if f.is_file())
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)

    result = {
        "exchanges_requested": args.exchanges,
        "generator": generator,
        "input": str(path.relative_to(ROOT)),
        "input_bytes": size,
        "input_records": summary["input_records"],
        "exchanges": summary["exchanges"],
        "duckdb_records": duck_count,
        "duckdb_parse_count_s": round(duck_seconds, 3),
        "scan_wall_s": round(seconds, 3),
        "ratio_scan_to_duckdb": round(seconds / duck_seconds, 2),
        "exchanges_per_s": round(summary["exchanges"] / seconds),
        "peak_rss_tree_mb": round(peak_tree / 2**20),
        "peak_rss_single_process_mb": round(max_single / 2**20),
        "store_mb": round(store_bytes / 2**20),
        "stage_timings_s": summary["timings"],
        "flagged_accounts": summary["flagged_accounts"],
        "clusters": summary["clusters"],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "command": " ".join(["python", "bench/scan.py", *sys.argv[1:]]),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"scan-{args.exchanges}.json").write_text(json.dumps(result, indent=2) + "\n")
    _print_table(result)


def _print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"distillguard scan benchmark ({result['generator']})", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("input", f"{result['input_bytes'] / 2**20:,.0f} MB, {result['input_records']:,} records"),
        ("DuckDB parse + count", f"{result['duckdb_parse_count_s']:.2f} s"),
        ("scan wall time", f"{result['scan_wall_s']:.2f} s"),
        ("ratio scan / DuckDB", f"{result['ratio_scan_to_duckdb']:.2f}"),
        ("exchanges per second", f"{result['exchanges_per_s']:,}"),
        ("peak RSS, process tree", f"{result['peak_rss_tree_mb']:,} MB"),
        ("peak RSS, largest process", f"{result['peak_rss_single_process_mb']:,} MB"),
        ("columnar store on disk", f"{result['store_mb']:,} MB"),
        ("stages", ", ".join(f"{k} {v:.1f}" for k, v in result["stage_timings_s"].items())),
    ]
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)


if __name__ == "__main__":
    main()
