"""Stream log files into the scan's columnar store, batch by batch, in bounded memory.

The map step (parse, normalize, per-exchange signals, write one Parquet part) runs per batch,
in worker processes when the input is large enough to pay for them. Rejects stream to a JSON Lines
file as they are found; duplicates are removed at the end by the store, from the parts
(`store.finalize_exchanges`), so no Python set grows with the input.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import shutil
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.gcpause import no_cyclic_gc
from distillguard.ingest.accounts import empty_accounts, read_accounts
from distillguard.ingest.parse_body import decode_body
from distillguard.ingest.paths import Source, expand_paths
from distillguard.ingest.records import content_hash, normalize_lines, normalize_records, reject
from distillguard.ingest.sources import (
    DataError,
    file_identity,
    iter_line_batches,
    iter_line_ranges,
    iter_parquet_batches,
    read_line_range,
)
from distillguard.ingest.workers import take_pool, worker_count
from distillguard.parts import write_exchange_part
from distillguard.schema import EXCHANGE_SCHEMA

if TYPE_CHECKING:  # the mappings' validation (pydantic) loads only when a mapping is used
    from distillguard.ingest.mapping import FieldMapping

BATCH_RECORDS = 4096
# Batches per map job. Arrow compiles each of the signals' regular expressions anew per call and
# warms its automaton on the call's text: signals over two batches at once cost ~6 µs per exchange
# less than over one. Each batch still becomes a part of its own, so the store is the same.
BATCHES_PER_JOB = 2
# A batch of one file to map: (kind, file label, payload, first line or row); kind "error"
# carries a reject instead.
Job = tuple[str, str, Any, int]
KEPT_REJECTS = 1000  # rejects kept in memory for the report; all of them go to the rejects file


class IngestError(RuntimeError):
    """Ingest cannot go on (a required stage is missing, or the store cannot be written)."""


class StrictModeError(Exception):
    """--strict: the first bad record, with a message naming its file, line and reason."""

    def __init__(self, rej: dict[str, Any]) -> None:
        detail = f" ({rej['detail']})" if rej.get("detail") else ""
        super().__init__(f"{rej['source']}:{rej['line']}: {rej['reason']}{detail}")
        self.reject = rej


@dataclass
class IngestReport:
    """What ingest read and what became of it: exchanges + rejected + duplicates == input_records."""

    input_records: int = 0
    exchanges: int = 0
    rejected: int = 0
    duplicates: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)  # the first KEPT_REJECTS
    reject_reasons: dict[str, int] = field(default_factory=dict)
    rejects_path: Path | None = None
    account_records: int = 0  # rows of the accounts file kept (one per account_id)
    accounts_rejected: int = 0
    sources: list[str] = field(default_factory=list)
    bytes_read: int = 0
    seconds: float = 0.0
    worker_cpu_seconds: float = 0.0  # CPU spent in map worker processes (0 when mapped in-process)
    worker_peak_rss_mb: int = 0  # the largest map worker's peak memory (0 when mapped in-process)


@dataclass
class BatchResult:
    """What the map step did with one batch."""

    rows: int
    rejects: list[dict[str, Any]]
    cpu_seconds: float = 0.0
    peak_rss_mb: int = 0  # of the process that ran it


def _drop_nulls(value: Any) -> Any:
    """Struct columns give every key of the union schema; absent keys come back as nulls."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def parquet_records(batch: pa.RecordBatch, first: int) -> Iterator[tuple[int, dict | None, str]]:
    """Yield (row number, record, content hash) per Parquet row; (row, None, reason) when unreadable."""
    for offset, record in enumerate(batch.to_pylist()):
        try:
            for key in ("request", "response"):
                body = record.get(key)
                if isinstance(body, dict):  # a struct column: absent keys came back as nulls
                    record[key] = _drop_nulls(body)
                elif body is not None:  # JSON text, decoded before the content hash
                    record[key] = decode_body(body)
            digest = content_hash(orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str))
        except (TypeError, ValueError) as exc:
            yield first + offset, None, f"{type(exc).__name__}: {exc}"
            continue
        yield first + offset, record, digest


def _signals() -> tuple[Any, pa.Schema]:
    try:
        from distillguard.signals import SIGNAL_SCHEMA, compute_signals
    except ImportError as exc:
        raise IngestError(f"the signals stage is not available ({exc})") from None
    return compute_signals, SIGNAL_SCHEMA


def _check_signals() -> None:
    """Fail before reading anything when the signals stage is absent, without importing it: when
    map workers run, this process needs only their schema, and that only for an empty store;
    their import (pyarrow then loads pandas, ~0.4 s) would delay the workers' first batch."""
    if importlib.util.find_spec("distillguard.signals.compute") is None:
        raise IngestError("the signals stage is not available (distillguard.signals.compute is missing)")


def part_schema(with_signals: bool) -> pa.Schema:
    """Schema of the exchange parts: EXCHANGE_SCHEMA, plus SIGNAL_SCHEMA when signals are on."""
    if not with_signals:
        return EXCHANGE_SCHEMA
    return pa.schema([*EXCHANGE_SCHEMA, *_signals()[1]])


def map_batch(
    kind: str,
    label: str,
    batches: list[tuple[Any, int]],
    mapping: FieldMapping | None,
    part_paths: list[str],
    with_signals: bool,
    shared_memo: str | None = None,
) -> BatchResult:
    """The map step for a job of consecutive batches (payload, first line or row) of one file:
    normalize each, add the signals to all of them at once, write one Parquet part per batch to
    `part_paths` (none for a batch without exchanges).

    Runs in a worker process or in-process. A "range" batch's payload is (path, offset, length),
    its lines read here (`sources.read_line_range`). With `shared_memo`, a folder the scan's map
    workers share, the worker first takes the signal rows the others published there and then
    publishes those it computed itself: a prompt that every worker meets is computed about once.
    """
    cpu = time.process_time()
    tables, rejects = [], []
    with no_cyclic_gc():  # parsed records hold no cycles: reference counting frees them
        for payload, first in batches:
            table, batch_rejects = _normalize(kind, label, payload, first, mapping)
            tables.append(table)
            rejects += batch_rejects
        sizes = [table.num_rows for table in tables]
        if with_signals and sum(sizes):
            table = _add_signals(pa.concat_tables(tables), shared_memo)
            starts = np.cumsum([0, *sizes[:-1]])
            tables = [table.slice(start, size) for start, size in zip(starts, sizes, strict=True)]
    for table, part_path in zip(tables, part_paths, strict=True):
        if table.num_rows:
            write_exchange_part(table, part_path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return BatchResult(sum(sizes), rejects, time.process_time() - cpu, peak)


def _normalize(
    kind: str, label: str, payload: Any, first: int, mapping: FieldMapping | None
) -> tuple[pa.Table, list[dict[str, Any]]]:
    if kind == "range":
        try:
            path, offset, length, identity = payload
            kind, payload = "jsonl", read_line_range(path, first, offset, length, identity)
        except DataError as exc:  # the file changed under the scan: this block is one reject
            return pa.Table.from_pylist([], schema=EXCHANGE_SCHEMA), [
                reject(label, exc.line, "unreadable_data", str(exc))
            ]
    if kind == "parquet":
        return normalize_records(parquet_records(payload, first), label, mapping)
    return normalize_lines(payload, label, mapping)


# This process's signal memo (signals.memo): a map worker's lasts as long as its pool, one scan;
# the scan's own process (small inputs map in-process) drops its memo when ingest ends.
_memo: Any = None
_MEMOS = ("users", "pairs")  # the memos of a SignalMemo, shared between map workers
_shared: dict[str, Any] = {"absorbed": set(), "published": 0}  # this worker's share of the folder


def _signal_memo() -> Any:
    global _memo
    if _memo is None:
        from distillguard.signals.compute import SignalMemo

        _memo = SignalMemo()
    return _memo


def _forget_signal_memo() -> None:
    global _memo
    _memo = None


def _absorb_shared(folder: Path) -> None:
    """Take into this worker's memo the rows the scan's other map workers published in `folder`."""
    from distillguard.signals.memo import read_rows

    memo, own = _signal_memo(), f"-{os.getpid()}-"
    for path in sorted(folder.glob("*.arrow")):
        if own in path.name or path.name in _shared["absorbed"]:
            continue
        _shared["absorbed"].add(path.name)
        name = path.name.split("-", 1)[0]
        if name in _MEMOS:
            getattr(memo, name).absorb(*read_rows(path))


def _publish_shared(folder: Path) -> None:
    """Publish in `folder` the rows this worker's memo computed since it last did."""
    from distillguard.signals.memo import write_rows

    memo = _signal_memo()
    _shared["published"] += 1
    for name in _MEMOS:
        keys, rows = getattr(memo, name).take_fresh()
        if rows is not None:
            write_rows(folder / f"{name}-{os.getpid()}-{_shared['published']:06d}.arrow", keys, rows)


def _add_signals(table: pa.Table, shared: str | None = None) -> pa.Table:
    """`table` with its signal columns; with `shared` (a folder), through the memo the scan's map
    workers share."""
    compute_signals, schema = _signals()
    if shared is not None:
        _absorb_shared(Path(shared))
    signals = compute_signals(table, memo=_signal_memo())
    if shared is not None:
        _publish_shared(Path(shared))
    return pa.Table.from_arrays(
        [*table.columns, *signals.select(schema.names).columns], schema=part_schema(True)
    )


def _jobs(sources: list[Source], on_bytes: Any, ranges: bool = False) -> Iterator[Job]:
    """Batches to map, in input order; a file that breaks off part-way gives an "error" job (its
    reject).

    With `ranges`, an uncompressed JSON Lines file is handed out as byte ranges that the map
    workers read themselves: the lines are then neither split here nor pickled to the workers."""
    for source in sources:
        label = str(source.path)
        try:
            if source.kind == "parquet":
                for first, batch in iter_parquet_batches(source, batch_size=BATCH_RECORDS, on_bytes=on_bytes):
                    yield "parquet", label, batch, first
            elif ranges and not source.compression:
                # The worker reopens the file: by its absolute path (its working directory may
                # differ), and only if it is still the same file.
                path = str(source.path.resolve())
                identity = file_identity(path)
                for first, offset, length in iter_line_ranges(
                    source, max_records=BATCH_RECORDS, on_bytes=on_bytes
                ):
                    yield "range", label, (path, offset, length, identity), first
            else:
                for lines in iter_line_batches(source, max_records=BATCH_RECORDS, on_bytes=on_bytes):
                    yield "jsonl", label, lines, lines[0][0]
        except DataError as exc:
            # What was read is kept; the unreadable rest is one explained reject, and the scan goes on.
            yield "error", label, reject(label, exc.line, "unreadable_data", str(exc)), exc.line


def _done(result: Any) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


def _grouped(jobs: Iterator[Job], size: int) -> Iterator[list[Job]]:
    """Consecutive batches of one file, up to `size` at a time; an "error" job alone."""
    group: list[Job] = []
    for job in jobs:
        if group and (job[:2] != group[0][:2] or len(group) == size):
            yield group
            group = []
        if job[0] == "error":
            yield [job]
        else:
            group.append(job)
    if group:
        yield group


def _map_all(
    jobs: Iterator[Job],
    n_workers: int,
    raw_dir: Path,
    mapping: FieldMapping | None,
    with_signals: bool,
    collect: Callable[[BatchResult], None],
) -> None:
    """Run the map step over every batch, BATCHES_PER_JOB at a time, in-process or in `n_workers`
    processes, and hand each job's result to `collect` in input order. Map workers share their
    signal memos through a folder beside the parts (`map_batch`)."""
    parts = 0
    shared = str(raw_dir / "memo") if n_workers > 1 and with_signals else None
    if shared is not None:
        Path(shared).mkdir(exist_ok=True)

    def next_part() -> str:
        nonlocal parts
        parts += 1
        return str(raw_dir / f"part-{parts - 1:06d}.parquet")  # zero-padded: name order is input order

    def run(group: list[Job]) -> tuple[Any, ...] | None:
        """The map_batch arguments of a job; None for an "error" job."""
        kind, label = group[0][:2]
        if kind == "error":
            return None
        batches = [(payload, first) for _, _, payload, first in group]
        return (kind, label, batches, mapping, [next_part() for _ in group], with_signals, shared)

    groups = _grouped(jobs, BATCHES_PER_JOB)
    if n_workers == 1:
        for group in groups:
            args = run(group)
            collect(map_batch(*args) if args else BatchResult(0, [group[0][2]]))
        return
    with take_pool(n_workers) as pool:
        pending: deque[Future] = deque()
        waiting = False
        try:
            for group in groups:
                args = run(group)
                # an error is queued behind the jobs already submitted: order is kept
                pending.append(
                    pool.submit(map_batch, *args) if args else _done(BatchResult(0, [group[0][2]]))
                )
                while len(pending) > 2 * n_workers:  # bounded: memory stays flat
                    if not waiting:  # the workers have their work: from here on this process waits
                        _warm_pyarrow()
                        waiting = True
                    collect(pending.popleft().result())
            while pending:
                collect(pending.popleft().result())
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _warm_pyarrow() -> None:
    """While the map workers run, in a thread of its own: this process's first pyarrow conversion
    of Python objects, made without loading pandas (`distillguard.nopandas`; only the report
    needs pandas, and the pipeline loads it beside link), and DuckDB's import, which the store
    needs once the map step is done."""
    threading.Thread(target=_first_conversion, name="pyarrow-warm", daemon=True).start()


def _first_conversion() -> None:
    from distillguard.nopandas import first_conversion

    first_conversion()
    import duckdb  # noqa: F401


def ingest_paths(
    paths: list[str | Path] | tuple[str | Path, ...],
    out_store: Path,
    *,
    accounts: Path | None = None,
    mapping: FieldMapping | None = None,
    strict: bool = False,
    progress: Any = None,
    workers: int | None = None,
    with_signals: bool = True,
    rejects_out: Path | None = None,
    exclude: tuple[Path, ...] = (),
) -> IngestReport:
    """Stream exchange logs into `out_store` and account for every input record.

    Writes `out_store/exchanges/part-*.parquet` (EXCHANGE_SCHEMA + SIGNAL_SCHEMA, duplicates
    removed), `out_store/accounts.parquet` (ACCOUNT_SCHEMA, empty without `accounts`) and the
    rejects as JSON Lines to `rejects_out` (default `out_store/rejects.jsonl`). `progress` is an
    optional rich Progress. Files in `exclude` (and the store itself) are skipped when a folder or
    a glob is expanded. Raises SourceError for unreadable or wrong-type paths,
    StrictModeError at the first bad record when `strict`, IngestError when a stage is missing.
    """
    from distillguard.store import finalize_exchanges

    started = time.perf_counter()
    out_store = Path(out_store)
    rejects_path = Path(rejects_out) if rejects_out is not None else out_store / "rejects.jsonl"
    # a scan's own outputs are never read back when they sit inside an input folder
    own = (out_store, rejects_path, *exclude)
    sources = expand_paths([paths] if isinstance(paths, str | Path) else list(paths), exclude=own)
    accounts_sources = expand_paths([accounts]) if accounts is not None else []
    if with_signals:
        _check_signals()
    raw_dir = out_store / "_parts"
    for folder in (raw_dir, out_store / "exchanges"):
        shutil.rmtree(folder, ignore_errors=True)
    raw_dir.mkdir(parents=True, exist_ok=True)
    rejects_path.parent.mkdir(parents=True, exist_ok=True)

    report = IngestReport(sources=[str(s.path) for s in sources], rejects_path=rejects_path)
    reasons: Counter[str] = Counter()
    total_bytes = sum(s.size for s in sources)
    task = progress.add_task("Reading logs", total=total_bytes or 1) if progress is not None else None

    def on_bytes(n: int) -> None:
        report.bytes_read += n
        if progress is not None:
            progress.advance(task, n)

    n_workers = worker_count(workers, total_bytes)
    with rejects_path.open("wb") as rejects_file:

        def collect(result: BatchResult) -> None:
            rows, rejects = result.rows, result.rejects
            if n_workers > 1:
                report.worker_cpu_seconds += result.cpu_seconds
                report.worker_peak_rss_mb = max(report.worker_peak_rss_mb, result.peak_rss_mb)
            report.exchanges += rows
            report.rejected += len(rejects)
            report.input_records += rows + len(rejects)
            for rej in rejects:
                reasons[rej["reason"]] += 1
                rejects_file.write(orjson.dumps(rej) + b"\n")
                if len(report.rejects) < KEPT_REJECTS:
                    report.rejects.append(rej)
            if strict and rejects:
                raise StrictModeError(rejects[0])

        try:
            _map_all(
                _jobs(sources, on_bytes, ranges=n_workers > 1),
                n_workers,
                raw_dir,
                mapping,
                with_signals,
                collect,
            )
        finally:
            _forget_signal_memo()

    if progress is not None:
        progress.update(task, completed=total_bytes or 1)
    kept, duplicates = finalize_exchanges(raw_dir, out_store / "exchanges", lambda: part_schema(with_signals))
    report.exchanges, report.duplicates = kept, duplicates
    report.reject_reasons = dict(reasons)

    table = empty_accounts()
    if accounts_sources:
        with rejects_path.open("ab") as rejects_file:

            def account_reject(rej: dict[str, Any]) -> None:
                rejects_file.write(orjson.dumps(rej) + b"\n")
                if strict:
                    raise StrictModeError(rej)

            table, report.accounts_rejected = read_accounts(accounts, on_reject=account_reject)
    pq.write_table(table, out_store / "accounts.parquet")
    report.account_records = table.num_rows
    report.seconds = time.perf_counter() - started
    return report
