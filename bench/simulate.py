"""Simulator speed: exchanges per second and MB per second, in one process.

Simulates a scenario (default `reference`) at a scale chosen for about the requested number of
exchanges and reports, for generation (accounts, timing, body rendering) and writing (JSON Lines,
truth files) separately and together:

- exchanges per CPU-second of the process (time.process_time): the per-core figure, which does
  not depend on what else the machine is running;
- exchanges per wall-clock second;
- MB written per second.

    .venv/bin/python bench/simulate.py                       # ~1M exchanges of `reference`
    .venv/bin/python bench/simulate.py --exchanges 100000    # a quick run
Results go to bench/results/simulate.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "src"))

from distillguard.simulate import build_world, load_scenario  # noqa: E402
from distillguard.simulate.writer import write_world  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="reference")
    ap.add_argument("--exchanges", type=int, default=1_000_000, help="approximate size of the world")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / ".data" / "simulate-bench")
    ap.add_argument("--keep", action="store_true", help="keep the world on disk")
    args = ap.parse_args()

    scenario = load_scenario(args.scenario)
    probe = build_world(scenario, seed=args.seed, scale=0.5)
    per_unit = len(probe.activity()[0]) / 0.5
    scale = max(0.01, args.exchanges / per_unit)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    world = build_world(scenario, seed=args.seed, scale=scale)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    counts = write_world(world, args.out)
    cpu2, wall2 = time.process_time(), time.perf_counter()

    n, mb = counts["exchanges"], counts["bytes"] / 1e6
    result = {
        "scenario": args.scenario,
        "scale": round(scale, 3),
        "exchanges": n,
        "accounts": counts["accounts"],
        "distinct_bodies": counts["distinct_bodies"],
        "megabytes": round(mb, 1),
        "bytes_per_exchange": round(counts["bytes"] / max(1, n)),
        "generate": {"cpu_s": round(cpu1 - cpu0, 2), "wall_s": round(wall1 - wall0, 2)},
        "write": {"cpu_s": round(cpu2 - cpu1, 2), "wall_s": round(wall2 - wall1, 2)},
        "exchanges_per_cpu_s": round(n / (cpu2 - cpu0)),
        "exchanges_per_wall_s": round(n / (wall2 - wall0)),
        "mb_per_cpu_s": round(mb / (cpu2 - cpu0), 1),
        "mb_per_wall_s": round(mb / (wall2 - wall0), 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "command": " ".join(["python", "bench/simulate.py", *sys.argv[1:]]),
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "results" / "simulate.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
