"""Run a benchmark's child process and measure its whole process tree from /proc.

Map workers, forkservers and Spark's JVM are descendants of the child, so peak memory and CPU
are summed over the tree, sampled while the child runs.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class TreeRun:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_bytes: int  # largest sampled sum of VmRSS over the tree
    cpu_s: float  # user + system seconds of every process seen in the tree


def tree_usage(pid: int, cpu_by_pid: dict[int, float]) -> int:
    """Resident bytes of `pid` and all its descendants; records each one's CPU seconds."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(x.split()[1]) * 1024 for x in fh if x.startswith("VmRSS:"))
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            cpu_by_pid[p] = (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, StopIteration, IndexError, ValueError):
            continue  # the process ended between the listing and the read
    return total


def run_sampled(cmd: list[str], interval_s: float = 0.05) -> TreeRun:
    """Run `cmd` to completion, sampling its process tree every `interval_s` seconds."""
    peak = 0
    cpu_by_pid: dict[int, float] = {}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(interval_s):
            peak = max(peak, tree_usage(proc.pid, cpu_by_pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    return TreeRun(proc.returncode, stdout, stderr, wall, peak, sum(cpu_by_pid.values()))
