"""The console script starts the map workers' process server before the CLI is imported, for a
scan of large log files only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from distillguard.ingest.workers import PARALLEL_FROM_BYTES
from distillguard.launch import _file_bytes, _large_scan

# Reports whether the CLI (typer) was loaded when the server was asked for, then runs the script.
_PROBE = (
    "import sys\n"
    "import distillguard.ingest.workers as workers\n"
    "workers.start_server = lambda: print(\n"
    "    'server asked for, CLI loaded:', 'typer' in sys.modules, flush=True)\n"
    "sys.argv = ['distillguard', *sys.argv[1:]]\n"
    "from distillguard.launch import main\n"
    "main()\n"
)


def _console(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_which_command_lines_are_an_embedded_scan() -> None:
    assert _large_scan(["scan", "logs.jsonl", "--out", "out"])
    assert _large_scan(["scan", "logs.jsonl", "--engine", "duckdb"])
    assert not _large_scan(["scan", "logs.jsonl", "--engine", "spark"])
    assert not _large_scan(["scan", "logs.jsonl", "--engine=spark"])
    assert not _large_scan(["scan", "--help"]) and not _large_scan(["scan", "-h"])
    assert not _large_scan(["report", "out"]) and not _large_scan([])


def test_only_arguments_that_are_regular_files_count(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"x" * 1000)
    assert _file_bytes([str(log), "--out", str(tmp_path), "-q", str(tmp_path / "missing.jsonl")]) == 1000


def test_a_large_scan_asks_for_the_server_before_the_cli_loads(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    with big.open("wb") as fh:  # sparse: its size, not its blocks, is what counts
        fh.truncate(PARALLEL_FROM_BYTES)
    done = _console("scan", big, "--out", tmp_path / "out", "--engine", "bogus")
    assert done.returncode == 2 and "unknown engine" in done.stderr  # the CLI still ran
    assert done.stdout.splitlines()[0] == "server asked for, CLI loaded: False"


def test_a_small_scan_or_another_command_does_not(tmp_path: Path) -> None:
    small = tmp_path / "small.jsonl"
    small.write_bytes(b"{}\n")
    done = _console("scan", small, "--out", tmp_path / "out", "--engine", "bogus")
    assert done.returncode == 2 and "server asked for" not in done.stdout
    assert "server asked for" not in _console("--help").stdout


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: the map step runs in-process")
def test_the_server_started_early_is_the_one_map_workers_are_forked_from() -> None:
    code = (
        "import os\n"
        "from multiprocessing import forkserver\n"
        "from distillguard.ingest import workers\n"
        "workers.start_server()\n"
        "server = forkserver._forkserver._forkserver_pid\n"
        "pool = workers.new_pool(1)\n"
        "print(server is not None, pool.submit(os.getppid).result() == server)\n"
        "pool.shutdown()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", "True"], done.stderr


def test_python_dash_m_is_the_console_script() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "distillguard", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "scan" in done.stdout
