"""The batch scan: logs in, ranked accounts, linked clusters, findings and a report out.

ingest -> signals.assign_templates -> features.materialize -> link.link_accounts ->
detect.run_detectors -> decide.fuse -> outputs -> report.write_report -> share.write_bundle.
The template grouping, account features and the detectors that do not read the linkage run in
a thread beside link.link_accounts, which waits for the grouping only where it needs it. Each
stage is timed once, here. The scan's CSV/JSON outputs are written before the report and the
STIX bundle, so a failure in those two is reported (summary.json `errors`, stderr) without
losing the scan.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from distillguard import __version__, outputs, store
from distillguard.config import ScanConfig
from distillguard.findings import Finding
from distillguard.ingest import IngestError, IngestReport, ingest_paths, load_mapping
from distillguard.ingest.workers import new_pool

ENGINES = ("duckdb", "spark")
STAGE_ORDER = ("ingest", "templates", "features", "link", "detect", "decide", "outputs", "report", "share")
# Files a scan writes into its output folder (never read back as input when the folder is scanned).
OUTPUT_FILES = (
    "accounts.csv",
    "clusters.csv",
    "findings.jsonl",
    "rejects.jsonl",
    "summary.json",
    "report.html",
    "indicators.stix.json",
    "store",
)


# Imported by the thread beside the link stage while link runs its SQL (its interpreter time
# overlaps the SQL): the graph library of link's community step, and the report's libraries,
# pandas among them (the scan process does not load it earlier, see ingest.loader._warm_pyarrow).
PRELOAD_BESIDE_LINK = ("igraph", "leidenalg", "pandas", "distillguard.report.render")
# Imported by the STIX bundle's worker process as soon as it starts (see _BundleWorker).
PRELOAD_BUNDLE = (
    "distillguard.config",
    "distillguard.report.scandir",
    "distillguard.share.observables",
    "distillguard.share.stix",
)


class StageError(RuntimeError):
    """A pipeline stage is missing or failed; the message names the stage."""


@dataclass
class ScanResult:
    """What a scan produced: its summary (as in summary.json) and the paths it wrote."""

    out_dir: Path
    summary: dict[str, Any]
    ingest: IngestReport
    findings: list[Finding] = field(default_factory=list)
    verdicts: Any = None  # decide.Verdicts
    linkage: Any = None  # link.Linkage
    outputs: dict[str, Path] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # stages after the outputs that failed

    @property
    def ok(self) -> bool:
        return not self.errors


def _stage(module: str, attr: str) -> Any:
    """Import a stage's entry point, or fail with a message naming the stage."""
    try:
        return getattr(importlib.import_module(f"distillguard.{module}"), attr)
    except (ImportError, AttributeError) as exc:
        raise StageError(f"the {module} stage is not available: {exc}") from None


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the map workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _Clock:
    """Per-stage wall and CPU times and peak memory, plus one progress line per stage."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.peak_rss_mb: dict[str, int] = {}  # this process's peak after each stage (monotonic)
        self.current = ""  # the stage running now, to name it when it fails
        self.beside_cpu = 0.0  # CPU seconds of the stages run beside another (their thread's own)

    def mark(self, name: str, seconds: float, cpu: float, add: bool = False) -> None:
        if add:  # a stage run in parts (the detectors: beside link, then after it)
            seconds += self.timings.get(name, 0.0)
            cpu += self.cpu_seconds.get(name, 0.0)
        self.timings[name] = round(seconds, 3)
        self.cpu_seconds[name] = round(cpu, 3)
        self.peak_rss_mb[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    @contextlib.contextmanager
    def stage(self, name: str, label: str | None = None, add: bool = False) -> Iterator[None]:
        task = self._task(label)
        started, cpu = time.perf_counter(), _cpu()
        self.current = name
        try:
            yield
        finally:
            self.mark(name, time.perf_counter() - started, _cpu() - cpu, add)
            self._done(task)

    @contextlib.contextmanager
    def beside(self, name: str, label: str | None = None) -> Iterator[None]:
        """A stage run in a thread beside another: its CPU seconds are its thread's own (the
        DuckDB work it starts is counted in the stage it runs beside), and it is not `current`."""
        task = self._task(label)
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            spent = time.thread_time() - cpu
            self.beside_cpu += spent
            self.mark(name, time.perf_counter() - started, spent)
            self._done(task)

    def _task(self, label: str | None) -> Any:
        return self.progress.add_task(label, total=1) if self.progress is not None and label else None

    def _done(self, task: Any) -> None:
        if task is not None:
            self.progress.update(task, completed=1)


def _ingest(
    paths: Sequence[str | Path],
    store_dir: Path,
    out_dir: Path,
    *,
    accounts: Path | None,
    mapping: Any,
    strict: bool,
    engine: str,
    master: str | None,
    progress: Any,
    workers: int | None,
) -> IngestReport:
    if engine == "spark":
        run_map_reduce = _stage("engines.spark", "run_map_reduce")
        rejects = out_dir / "rejects.jsonl"
        return run_map_reduce(
            list(paths),
            store_dir,
            accounts=accounts,
            mapping=mapping,
            master=master,
            progress=progress,
            strict=strict,
            rejects_out=rejects,
        )
    return ingest_paths(
        list(paths),
        store_dir,
        accounts=accounts,
        mapping=mapping,
        strict=strict,
        progress=progress,
        workers=workers,
        rejects_out=out_dir / "rejects.jsonl",
        exclude=tuple(out_dir / name for name in OUTPUT_FILES),
    )


def _view_stage(module: str, attr: str, args: tuple) -> tuple[str, float, float, int]:
    """Run one view stage in a worker; returns its output path, wall and CPU seconds, peak memory."""
    started, cpu = time.perf_counter(), time.process_time()
    path = str(_stage(module, attr)(*args))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return path, time.perf_counter() - started, time.process_time() - cpu, peak


class _BundleWorker:
    """The worker process that builds the STIX bundle beside the report, when the map workers ran
    (their process server is warm, the input was large) and there is a second core. It starts as
    soon as the work beside link is done: its imports then use the core that link's last steps
    leave idle, and the bundle starts at once when the outputs are written."""

    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted and len(os.sched_getaffinity(0)) > 1
        self.pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self.wanted and self.pool is None:
                self.pool = new_pool(1)
                self.pool.submit(_preload, PRELOAD_BUNDLE)

    def take(self) -> ProcessPoolExecutor | None:
        """The worker's pool (started now if it was not yet), for the caller to use and shut
        down; None when there is no bundle worker. Nothing is started after this."""
        self.start()
        return self._release()

    def close(self) -> None:
        """Stop the worker when the scan ended before the bundle was asked of it."""
        pool = self._release()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _release(self) -> ProcessPoolExecutor | None:
        with self._lock:
            pool, self.pool, self.wanted = self.pool, None, False
        return pool


def _write_views(
    out_dir: Path,
    config: ScanConfig,
    clock: _Clock,
    paths_out: dict[str, Path],
    errors: list[str],
    bundle: _BundleWorker,
) -> None:
    """report.html and the STIX bundle. Both only read the finished outputs, not each other: with
    a `bundle` worker the bundle is built there while this process writes the report. A failure is
    reported in `errors`."""
    views = (
        ("report", "report", "write_report", (out_dir,), "Writing report"),
        ("share", "share", "write_bundle", (out_dir, config.share), "Writing STIX bundle"),
    )

    def failed(name: str, exc: BaseException) -> None:
        message = f"{name}: {type(exc).__name__}: {exc}"
        errors.append(message)
        print(f"distillguard scan: {message}", file=sys.stderr)

    side = None
    pool = bundle.take()
    if pool is not None:
        name, module, attr, args, label = views[1]
        side = (name, pool, pool.submit(_view_stage, module, attr, args), time.perf_counter())
        views = views[:1]
    for name, module, attr, args, label in views:
        with clock.stage(name, label):
            try:
                paths_out[name] = Path(_stage(module, attr)(*args))
            except Exception as exc:
                failed(name, exc)
    if side is not None:
        name, pool, future, started = side
        with pool:
            try:
                path, wall, cpu, peak = future.result()
                paths_out[name] = Path(path)
                clock.mark(name, wall, cpu)
                clock.peak_rss_mb[f"{name}_worker"] = peak
            except Exception as exc:
                clock.mark(name, time.perf_counter() - started, 0.0)
                failed(name, exc)


def run_scan(
    paths: Sequence[str | Path],
    out_dir: Path,
    *,
    accounts: Path | None = None,
    config: ScanConfig | None = None,
    strict: bool = False,
    engine: str = "duckdb",
    progress: Any = None,
    master: str | None = None,
    workers: int | None = None,
) -> ScanResult:
    """Scan exchange logs into `out_dir` (see docs/data-contracts.md for every file written).

    Raises SourceError / MappingError / StrictModeError for bad input (nothing useful written),
    StageError when a stage is missing or fails before the outputs exist. Failures of the report
    or the STIX bundle do not raise: they are listed in `ScanResult.errors` and summary.json.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    config = config or ScanConfig()
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    started, wall_started = datetime.now(UTC), time.perf_counter()
    out_dir = Path(out_dir)
    store_dir = out_dir / "store"
    store_dir.mkdir(parents=True, exist_ok=True)
    mapping = load_mapping(config.mapping) if config.mapping else None
    clock = _Clock(progress)

    try:
        with clock.stage("ingest"):  # ingest shows its own progress bar (bytes read)
            report = _ingest(
                paths,
                store_dir,
                out_dir,
                accounts=accounts,
                mapping=mapping,
                strict=strict,
                engine=engine,
                master=master,
                progress=progress,
                workers=workers,
            )
    except IngestError as exc:
        raise StageError(str(exc)) from None
    clock.cpu_seconds["ingest"] = round(clock.cpu_seconds["ingest"] + report.worker_cpu_seconds, 3)
    clock.peak_rss_mb["ingest_worker"] = report.worker_peak_rss_mb

    result = ScanResult(out_dir=out_dir, summary={}, ingest=report)
    con = store.connect(store_dir)
    bundle = _BundleWorker(wanted=report.worker_cpu_seconds > 0)
    try:
        linkage, findings, verdicts = _analyse(con, store_dir, engine, config, clock, bundle)
        with clock.stage("outputs", "Writing outputs"):
            paths_out = _write_outputs(out_dir, findings, verdicts)
            summary = _summary(report, con, verdicts, linkage, config, engine, started, clock.timings)
            summary["findings"] = len(findings)
            summary["mapping"] = mapping.name if mapping is not None else None
            outputs.write_summary(summary, paths_out["summary"])
    except BaseException:
        bundle.close()
        raise
    finally:
        con.close()
    result.findings, result.verdicts, result.linkage = findings, verdicts, linkage

    # After the outputs: a failure here is reported, never allowed to lose the scan.
    _write_views(out_dir, config, clock, paths_out, result.errors, bundle)

    summary["timings"] = {k: clock.timings[k] for k in sorted(clock.timings, key=_stage_rank)}
    summary["wall_seconds"] = round(time.perf_counter() - wall_started, 3)
    summary["cpu_seconds"] = dict(clock.cpu_seconds)
    summary["peak_rss_mb"] = dict(clock.peak_rss_mb)
    summary["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["errors"] = result.errors
    summary["outputs"] = {k: str(v) for k, v in paths_out.items()}
    outputs.write_summary(summary, paths_out["summary"])
    result.summary, result.outputs = summary, paths_out
    return result


def _analyse(
    con: Any, store_dir: Path, engine: str, config: ScanConfig, clock: _Clock, bundle: _BundleWorker
) -> tuple[Any, list[Finding], Any]:
    """templates -> features -> link -> detect -> decide over the store; (linkage, findings, verdicts).

    The Spark engine may already have written templates and account features: they are kept.
    `bundle` is started once the work beside link is done. Raises StageError naming the stage
    that failed.
    """
    try:
        return _run_stages(con, store_dir, engine, config, clock, bundle)
    except StageError:
        raise
    except Exception as exc:
        raise _stage_failed(clock.current, exc) from exc


def _run_stages(
    con: Any, store_dir: Path, engine: str, config: ScanConfig, clock: _Clock, bundle: _BundleWorker
) -> tuple[Any, list[Finding], Any]:
    # The template grouping, then the account features and the account rules (which never read
    # the linkage) run in a thread beside the link stage, on a connection of their own: link builds
    # the keys that do not read templates while the grouping runs, and waits for it only then.
    grouping: Future | None = None
    if not (engine == "spark" and (store_dir / "templates.parquet").is_file()):
        grouping = Future()
    side_con = con.cursor()
    # While the thread beside link runs, it and link each run their queries on their own thread:
    # DuckDB's pool gets one thread less, so that the two do not oversubscribe the cores.
    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    con.execute(f"SET threads = {max(1, threads - 1)}")
    restore = f"SET threads = {threads}"
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="beside-link") as beside:
            early, late = _stage("detect", "split_by_linkage")(_enabled_detectors(config.detect))
            side = beside.submit(
                _beside_link, side_con, store_dir, engine, config, early, clock, grouping, restore
            )
            side.add_done_callback(lambda _: bundle.start())
            try:
                # The link stage's time and CPU include the wait for the work beside it; its CPU
                # less what that thread spent itself, which its own stages count.
                with clock.stage("link", "Linking accounts"):
                    templates = grouping.result if grouping is not None else None
                    linkage = _stage("link", "link_accounts")(con, config.link, templates=templates)
                    store.write_table(store_dir, "edges", linkage.edges)
                    early_findings = side.result()
                clock.cpu_seconds["link"] = round(clock.cpu_seconds["link"] - clock.beside_cpu, 3)
            except BaseException:
                side_con.interrupt()  # a failed or interrupted link stage does not wait for the thread
                raise
    finally:
        side_con.close()
        with contextlib.suppress(Exception):  # never hides why the stage stopped
            con.execute(restore)
    store.refresh_views(con, store_dir)  # only now: no view changes while the thread reads them
    ctx = _stage("detect", "DetectionContext")(con=con, linkage=linkage, config=config.detect)
    with clock.stage("detect", "Running detectors", add=True):
        findings = _stage("detect", "run_detectors")(ctx, enabled=late)
        findings = _stage("detect", "in_registry_order")(early_findings + findings)
    with clock.stage("decide", "Fusing risk"):
        verdicts = _stage("decide", "fuse")(findings, ctx, threshold=config.threshold)
    return linkage, findings, verdicts


def _stage_rank(name: str) -> int:
    """A stage's place in the pipeline, for listing timings in order (stages beside others finish
    in no fixed order)."""
    return STAGE_ORDER.index(name) if name in STAGE_ORDER else len(STAGE_ORDER)


def _preload(modules: Sequence[str]) -> None:
    """Import libraries that later stages need, where the import (pure Python, holding the
    interpreter lock) overlaps work that does not need it. A missing one is left for its stage to
    report."""
    for module in modules:
        with contextlib.suppress(Exception):  # a broken install fails where the stage imports it
            importlib.import_module(module)


def _beside_link(
    con: Any,
    store_dir: Path,
    engine: str,
    config: ScanConfig,
    early: list[str],
    clock: _Clock,
    grouping: Future | None,
    restore: str,
) -> list[Finding]:
    """Beside the link stage: the template grouping (when `grouping` is given: its
    (skeleton_hash, template_id) mapping is handed to link through it, and the store's views
    gain template_id), then account features, then the detectors `early` that do not need the
    linkage; then `restore` (SQL) gives link the cores back. Raises StageError naming the stage
    that failed."""
    name = "templates"
    try:
        if grouping is not None:
            try:
                with clock.beside(name, "Grouping templates"):
                    mapping = _stage("signals", "template_mapping")(con)
                    templates = _stage("signals", "exchange_templates")(con, mapping)
                    store.write_table(store_dir, "templates", templates)
                    store.refresh_views(con, store_dir)
            except BaseException as exc:
                grouping.set_exception(_stage_failed(name, exc))
                raise
            grouping.set_result(mapping)
        _preload(PRELOAD_BESIDE_LINK)
        name = "features"
        with clock.beside(name, "Account features"):
            if not (engine == "spark" and (store_dir / "account_features.parquet").is_file()):
                store.write_table(store_dir, "account_features", _stage("features", "materialize")(con))
            store.table_view(con, store_dir, "account_features")
        name = "detect"
        with clock.beside(name, "Running account rules"):
            ctx = _stage("detect", "DetectionContext")(con=con, linkage=None, config=config.detect)
            return _stage("detect", "run_detectors")(ctx, enabled=early)
    except StageError:
        raise
    except Exception as exc:
        raise _stage_failed(name, exc) from exc
    finally:
        with contextlib.suppress(Exception):  # an interrupted connection: link's own restores it
            con.execute(restore)


def _stage_failed(name: str, exc: BaseException) -> StageError:
    """The error that names the stage `name` as the one that failed (a StageError as it is)."""
    if isinstance(exc, StageError):
        return exc
    return StageError(f"the {name} stage failed: {type(exc).__name__}: {exc}")


def _write_outputs(out_dir: Path, findings: list[Finding], verdicts: Any) -> dict[str, Path]:
    """accounts.csv, clusters.csv, findings.jsonl; the paths of every output file."""
    paths = {
        "accounts": outputs.write_table_csv(
            verdicts.accounts, outputs.ACCOUNT_COLUMNS, out_dir / "accounts.csv"
        ),
        "clusters": outputs.write_table_csv(
            verdicts.clusters, outputs.CLUSTER_COLUMNS, out_dir / "clusters.csv"
        ),
        "findings": out_dir / "findings.jsonl",
        "rejects": out_dir / "rejects.jsonl",
        "summary": out_dir / "summary.json",
    }
    outputs.write_findings(findings, paths["findings"])
    return paths


def _enabled_detectors(section: dict[str, Any]) -> list[str] | None:
    """Detector ids minus those the config disables (`<id>: {enabled: false}`); None = all."""
    disabled = {k for k, v in section.items() if isinstance(v, dict) and v.get("enabled") is False}
    if not disabled:
        return None
    registry = _stage("detect", "registry")
    return [det_id for det_id in registry() if det_id not in disabled]


def _summary(
    report: IngestReport,
    con: Any,
    verdicts: Any,
    linkage: Any,
    config: ScanConfig,
    engine: str,
    started: datetime,
    timings: dict[str, float],
) -> dict[str, Any]:
    accounts = con.execute("SELECT count(DISTINCT account_id) FROM exchanges").fetchone()[0]
    acc = verdicts.accounts
    flagged = sum(1 for v in acc["flagged"].to_pylist() if v) if acc.num_rows else 0
    cl = verdicts.clusters
    flagged_clusters = sum(1 for v in cl["flagged"].to_pylist() if v) if cl.num_rows else 0
    return {
        "input_records": report.input_records,
        "exchanges": report.exchanges,
        "rejected": report.rejected,
        "duplicates": report.duplicates,
        "accounts": int(accounts),
        "flagged_accounts": flagged,
        "clusters": len(getattr(linkage, "clusters", []) or []),
        "flagged_clusters": flagged_clusters,
        "threshold": config.threshold,
        "engine": engine,
        "version": __version__,
        "started": started.isoformat(timespec="seconds"),
        "finished": None,
        "timings": dict(timings),
        "reject_reasons": report.reject_reasons,
        "account_records": report.account_records,
        "accounts_rejected": report.accounts_rejected,
        "sources": report.sources,
        "bytes_read": report.bytes_read,
    }
