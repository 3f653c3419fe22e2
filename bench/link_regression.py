"""Regression check of the link stage: a Linkage must not change when only its speed does.

    python bench/link_regression.py dump  STORE OUT.json     # run link_accounts, write its result
    python bench/link_regression.py check STORE REF.json     # rerun, compare with a previous dump
    python bench/link_regression.py time  STORE [--repeat 5] # wall and CPU seconds per step

STORE is a scan's store directory (`distillguard scan ... --out DIR` writes DIR/store). `dump` and
`check` print the CPU time, wall time, peak resident memory and per-step seconds of
`link_accounts`. `check` exits 1 and names the first differences when cluster_of, the clusters
(members and every score) or the edges differ; floats are compared to 1e-9. `time` runs the stage
`--repeat` times and prints the least wall and CPU seconds of each step (on a shared machine the
least is the figure least disturbed by other work).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path
from typing import Any

from distillguard.link import link_accounts
from distillguard.store import connect


def canonical(linkage: Any) -> dict[str, Any]:
    """The Linkage as plain JSON, edges in a fixed order (the table's order is not part of the result)."""
    edges = linkage.edges.to_pylist()
    for row in edges:
        row["evidence"] = json.loads(row["evidence"])
    edges.sort(key=lambda r: (r["src"], r["dst"], r["kind"]))
    return {
        "cluster_of": dict(sorted(linkage.cluster_of.items())),
        "clusters": [c.to_dict() for c in linkage.clusters],
        "edges": edges,
    }


def differences(old: Any, new: Any, path: str = "", out: list[str] | None = None) -> list[str]:
    """Paths where two JSON values differ (floats within 1e-9 are equal); at most 20."""
    out = [] if out is None else out
    if len(out) >= 20:
        return out
    if isinstance(old, float) or isinstance(new, float):
        if not (isinstance(old, int | float) and isinstance(new, int | float)) or not math.isclose(
            old, new, rel_tol=1e-9, abs_tol=1e-9
        ):
            out.append(f"{path}: {old!r} != {new!r}")
    elif isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if key not in old or key not in new:
                out.append(f"{path}/{key}: only in {'new' if key in new else 'old'}")
            else:
                differences(old[key], new[key], f"{path}/{key}", out)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            out.append(f"{path}: length {len(old)} != {len(new)}")
        for i, (x, y) in enumerate(zip(old, new, strict=False)):
            differences(x, y, f"{path}[{i}]", out)
    elif old != new:
        out.append(f"{path}: {old!r} != {new!r}")
    return out


def run(store: Path) -> dict[str, Any]:
    con = connect(store)
    wall, cpu = time.perf_counter(), time.process_time()
    linkage = link_accounts(con)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": round(peak_mb)}
            | {"steps": linkage.stats}
        ),
        file=sys.stderr,
    )
    return canonical(linkage)


def time_steps(store: Path, repeat: int) -> dict[str, Any]:
    """Least wall and CPU seconds per step over `repeat` runs. The stage times its steps with
    `time.perf_counter` (its stats give wall seconds); a clock that also notes the process's CPU
    time at each of those calls gives the CPU seconds of the same steps."""
    from distillguard.link import linkage as stage

    marks: list[float] = []

    class Clock:
        @staticmethod
        def perf_counter() -> float:
            marks.append(time.process_time())
            return time.perf_counter()

    real_time, stage.time = stage.time, Clock  # type: ignore[assignment]
    best: dict[str, dict[str, float]] = {"wall_s": {}, "cpu_s": {}}
    try:
        for _ in range(repeat):
            con = connect(store)
            marks.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            stats = link_accounts(con).stats
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            con.close()
            steps = [k.removesuffix("_s") for k in stats if k.endswith("_s")]
            runs = {
                "wall_s": {s: stats[f"{s}_s"] for s in steps} | {"total": wall},
                "cpu_s": {s: marks[i + 1] - marks[i] for i, s in enumerate(steps)} | {"total": cpu},
            }
            for what, run in runs.items():
                for step, seconds in run.items():
                    best[what][step] = round(min(best[what].get(step, math.inf), seconds), 2)
    finally:
        stage.time = real_time
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return best | {"peak_rss_mb": round(peak_mb), "repeat": repeat}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["dump", "check", "time"])
    parser.add_argument("store", type=Path)
    parser.add_argument("reference", type=Path, nargs="?")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the stage in `time` mode")
    parser.add_argument(
        "--ties",
        action="store_true",
        help="compare only the length of each edge's top shared keys (for references written when "
        "keys of equal weight were listed in no fixed order)",
    )
    args = parser.parse_args(argv)
    if args.mode == "time":
        print(json.dumps(time_steps(args.store, args.repeat)))
        return
    if args.reference is None:
        parser.error(f"{args.mode} needs a reference file")
    result = run(args.store)
    if args.mode == "dump":
        args.reference.write_text(json.dumps(result))
        print(f"wrote {args.reference}: {len(result['clusters'])} clusters, {len(result['edges'])} edges")
        return
    reference = json.loads(args.reference.read_text())
    if args.ties:
        for edges in (reference["edges"], result["edges"]):
            for row in edges:
                row["evidence"]["top"] = len(row["evidence"]["top"])
    diffs = differences(reference, result)
    if diffs:
        print("DIFFERENT:\n" + "\n".join(diffs))
        sys.exit(1)
    print(f"identical: {len(result['clusters'])} clusters, {len(result['edges'])} edges")


if __name__ == "__main__":
    main()
