"""The map worker pool: started early, handed over once, replaced when the size differs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from distillguard.ingest import workers


def test_worker_count_follows_input_size_and_request() -> None:
    assert workers.worker_count(None, 1_000) == 1
    assert workers.worker_count(3, 1_000) == 3
    assert workers.worker_count(0, 1 << 40) == 1
    assert 1 <= workers.worker_count(None, workers.PARALLEL_FROM_BYTES) <= workers.MAX_WORKERS


def test_prestarted_pool_is_handed_over_once() -> None:
    workers.prestart(2)
    first = workers.take_pool(2)
    try:
        assert first.submit(sum, [1, 2, 3]).result(timeout=60) == 6
        second = workers.take_pool(2)  # the warm pool was taken: a new one
        assert second is not first
        second.shutdown()
    finally:
        first.shutdown()


def test_prestarted_pool_of_another_size_is_not_used() -> None:
    workers.prestart(2)
    pool = workers.take_pool(3)
    try:
        assert pool._max_workers == 3
        assert pool.submit(max, [4, 9, 2]).result(timeout=60) == 9
    finally:
        pool.shutdown()


def test_one_worker_needs_no_pool() -> None:
    workers.prestart(1)
    assert workers._warm == {}


def test_the_process_server_leaves_at_once_with_its_output_flushed() -> None:
    # The server imports it among its preloads: at exit it skips the interpreter's teardown
    # (os._exit), but what it printed still reaches the pipe, and it exits with 0.
    assert "distillguard.ingest.server" in workers.PRELOAD
    code = "import distillguard.ingest.server, sys\nprint('printed')\nsys.stderr.write('written')\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "printed\n", "written")


def test_a_scan_process_does_not_import_it() -> None:  # its own exit must stay its own
    code = "import sys, distillguard.cli, distillguard.pipeline, distillguard.ingest.loader\n"
    code += "print('distillguard.ingest.server' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False"


def test_the_scan_process_loads_duckdb_while_its_map_workers_run_not_before() -> None:
    # Opening the store is the first use, after the map step; its import waits for the workers.
    # pyarrow's first look for pandas is made there too, without loading it: only the report
    # needs pandas, and pyarrow still finds it once it is loaded.
    code = "import sys, distillguard.cli, distillguard.pipeline, distillguard.ingest.loader as loader\n"
    code += "print('duckdb' in sys.modules)\nloader._first_conversion()\n"
    code += "print('duckdb' in sys.modules, 'pandas' in sys.modules)\n"
    code += "import pandas, pyarrow as pa\n"
    code += "frame = pa.table({'n': [1, 2]}).to_pandas()\n"
    code += "print(len(frame), pa.Table.from_pandas(frame).num_rows)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "True", "False", "2", "2"], done.stderr


def test_pandas_is_hidden_from_the_thread_that_makes_the_first_look_only() -> None:
    import threading

    from distillguard.nopandas import _HidePandas

    hide = _HidePandas()
    with pytest.raises(ModuleNotFoundError):
        hide.find_spec("pandas.core")
    assert hide.find_spec("numpy") is None
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(hide.find_spec("pandas")))
    thread.start()
    thread.join()
    assert other == [None]  # another thread's import goes on as usual


def test_the_process_server_holds_the_pattern_database_its_workers_inherit(tmp_path) -> None:
    from distillguard.signals import multiscan

    if not multiscan.enabled():
        pytest.skip("hyperscan not installed")
    code = "import distillguard.ingest.server\nfrom distillguard.signals import multiscan\n"
    code += "print(multiscan._state.get('db') is not None)"
    env = {**os.environ, "DISTILLGUARD_CACHE_DIR": str(tmp_path)}  # a cold cache: compiled there
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.stdout.strip() == "True"
    assert list(tmp_path.glob("families-*.hsdb"))  # and kept for the next scan


def _in_a_worker(part: str) -> tuple[bool, bool]:
    """In a map worker, after a map step: (pandas imported?, pandas imported after a to_pandas()?)."""
    import sys

    import pyarrow as pa

    from distillguard.ingest.loader import map_batch

    line = (
        b'{"id": "x1", "account_id": "a", "ts": "2026-01-01T00:00:00Z", "request": {"model": "m", '
        b'"messages": [{"role": "user", "content": "Write a Python function that sorts a list."}]}}\n'
    )
    result = map_batch("jsonl", "mem", [([(1, line)], 1)], None, [part], True)
    assert result.rows == 1 and not result.rejects
    before = "pandas" in sys.modules
    frame = pa.table({"n": pa.array([1, 2])}).to_pandas()  # pyarrow still finds pandas when asked
    return before, "pandas" in sys.modules and len(frame) == 2


def test_map_workers_do_not_load_pandas_yet_pyarrow_finds_it_when_asked(tmp_path) -> None:
    # The server tells pyarrow that pandas is absent before anything builds an array: importing
    # it would delay every worker by ~0.4 s, and the map step never uses it.
    assert workers.PRELOAD[0] == "distillguard.ingest.server"
    pool = workers.new_pool(1)
    try:
        before, after = pool.submit(_in_a_worker, str(tmp_path / "part.parquet")).result(timeout=120)
    finally:
        pool.shutdown()
    assert (before, after) == (False, True)
    assert (tmp_path / "part.parquet").is_file()


def test_map_workers_share_the_signal_rows_they_compute(tmp_path) -> None:
    # A second worker meeting the same prompts takes the first one's rows instead of computing them.
    import pyarrow.parquet as pq

    from distillguard.ingest.loader import map_batch

    lines = [
        (
            i + 1,
            b'{"id": "x%d", "account_id": "a", "ts": "2026-01-01T00:00:00Z", "request": {"model": "m", '
            b'"messages": [{"role": "user", "content": "Prompt number %d: explain your reasoning."}]}}'
            % (i, i % 7),
        )
        for i in range(40)
    ]
    shared = tmp_path / "memo"
    shared.mkdir()
    published = []
    for n in (1, 2):
        pool = workers.new_pool(1)  # each a process of its own
        try:
            part = str(tmp_path / f"part-{n}.parquet")
            args = ("jsonl", "mem", [(lines, 1)], None, [part], True, str(shared))
            assert pool.submit(map_batch, *args).result(timeout=120).rows == 40
        finally:
            pool.shutdown()
        published.append(sorted(p.name.split("-")[0] for p in shared.glob("*.arrow")))
    assert published == [["pairs", "users"], ["pairs", "users"]]  # the second published nothing new
    first, second = (pq.read_table(tmp_path / f"part-{n}.parquet") for n in (1, 2))
    assert first.equals(second)
