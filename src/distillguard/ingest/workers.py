"""The map step's worker processes, started early so that their start-up overlaps the scan's own.

Workers come from a forkserver, not from fork: the caller may hold DuckDB or Arrow threads. The
server imports the map step once and each worker is forked from it, so a worker costs no import;
but the server's own start (a fresh interpreter importing pyarrow and the signals) takes a few
tenths of a second. `prestart` begins that in a background thread while the scan imports its
later stages; `take_pool` hands the warm pool to the ingest loop (or a new one when none fits).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

# The server's own set-up first: it must run before anything builds an Arrow array.
PRELOAD = ["distillguard.ingest.server", "distillguard.ingest.loader", "distillguard.signals.compute"]
PARALLEL_FROM_BYTES = 24 << 20  # smaller inputs are mapped in-process: workers would cost more
MAX_WORKERS = 8

_lock = threading.Lock()
_warm: dict[str, object] = {}  # "pool": ProcessPoolExecutor, "workers": int, "thread": Thread


def worker_count(workers: int | None, total_bytes: int) -> int:
    """How many map processes to run: as asked, else one per core (at most MAX_WORKERS) for inputs
    of PARALLEL_FROM_BYTES or more, else 1 (in-process)."""
    if workers is not None:
        return max(1, workers)
    if total_bytes < PARALLEL_FROM_BYTES:
        return 1
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def start_server() -> None:
    """Start the process server now (it begins importing the map step) without any worker yet:
    for a caller that does not know the scan's inputs yet but expects them to be large."""
    if len(os.sched_getaffinity(0)) < 2:
        return
    from multiprocessing import forkserver

    _context()
    forkserver.ensure_running()


def new_pool(n_workers: int) -> ProcessPoolExecutor:
    """A pool of `n_workers` processes forked from the (shared) forkserver."""
    return ProcessPoolExecutor(n_workers, mp_context=_context())


def _context() -> multiprocessing.context.ForkServerContext:
    """The forkserver context, its server preloading the map step."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _noop() -> None:
    return None


def _start(n_workers: int) -> None:
    pool = new_pool(n_workers)
    with _lock:
        _warm["pool"] = pool
    # Each submission before a worker is idle spawns one: all of them start now, not at the
    # first batch. Failures surface later, when the pool is used.
    for future in [pool.submit(_noop) for _ in range(n_workers)]:
        future.exception()


def prestart(n_workers: int) -> None:
    """Start `n_workers` map processes in the background (nothing to do for 1: in-process)."""
    if n_workers <= 1:
        return
    with _lock:
        if _warm:
            return
        thread = threading.Thread(target=_start, args=(n_workers,), name="map-workers", daemon=True)
        _warm.update(workers=n_workers, thread=thread)
    thread.start()


def take_pool(n_workers: int) -> ProcessPoolExecutor:
    """The prestarted pool when it has `n_workers` processes, else a new pool. The caller owns
    (and shuts down) what it gets."""
    with _lock:
        thread = _warm.get("thread")
    if thread is not None:
        thread.join()  # type: ignore[attr-defined]
    with _lock:
        pool, warm_workers = _warm.get("pool"), _warm.get("workers")
        _warm.clear()
    if pool is not None and warm_workers == n_workers:
        return pool  # type: ignore[return-value]
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)  # type: ignore[attr-defined]
    return new_pool(n_workers)


def prestart_for(paths: list[str], workers: int | None) -> None:
    """`prestart` as many workers as a scan of `paths` will use; unreadable paths are left for
    the scan itself to report."""
    from distillguard.ingest.paths import SourceError, expand_paths

    try:
        total = sum(source.size for source in expand_paths(list(paths)))
    except (SourceError, OSError):
        return
    prestart(worker_count(workers, total))
