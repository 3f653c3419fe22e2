"""`distillguard scan`: a batch scan of API logs into ranked accounts, clusters and a report.

Exit codes: 0 the scan finished (even if the report or the STIX bundle failed: see summary.json),
2 bad input or usage (unreadable path, wrong file type, invalid mapping or config, --strict and a
bad record), 1 internal error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def _fail(code: int, message: str) -> typer.Exit:
    typer.echo(f"distillguard scan: {message}", err=True)
    return typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add the `scan` command to the distillguard CLI."""

    @app.command("scan")
    def scan(
        paths: list[str] = typer.Argument(
            ..., help="Exchange logs: JSON Lines (.jsonl, .gz, .zst) or Parquet files, directories or globs."
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Output directory."),
        accounts: Path | None = typer.Option(
            None, "--accounts", help="Accounts file (JSON Lines or Parquet)."
        ),
        config: Path | None = typer.Option(None, "--config", help="Scan configuration (YAML)."),
        threshold: float | None = typer.Option(
            None, "--threshold", help="Risk at which accounts are flagged."
        ),
        mapping: str | None = typer.Option(
            None, "--mapping", help="Field mapping for other log layouts: a built-in name or a YAML file."
        ),
        strict: bool = typer.Option(False, "--strict", help="Stop at the first bad record (exit code 2)."),
        engine: str = typer.Option("duckdb", "--engine", help="duckdb (embedded) or spark."),
        master: str | None = typer.Option(None, "--master", help="Spark master URL (with --engine spark)."),
        workers: int | None = typer.Option(
            None, "--workers", help="Processes for the map step (default: auto)."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars and no summary table."),
        debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal error."),
    ) -> None:
        """Scan API logs for distillation: ranked accounts, linked clusters, findings, report."""
        code = _run(
            paths, out, accounts, config, threshold, mapping, strict, engine, master, workers, quiet, debug
        )
        if code:
            raise typer.Exit(code)


def _run(
    paths: list[str],
    out: Path,
    accounts: Path | None,
    config_path: Path | None,
    threshold: float | None,
    mapping: str | None,
    strict: bool,
    engine: str,
    master: str | None,
    workers: int | None,
    quiet: bool,
    debug: bool,
) -> int:
    from distillguard.ingest.workers import prestart_for

    if engine == "duckdb":  # the map workers start while the later stages are imported
        prestart_for(paths, workers)
    from rich.console import Console

    from distillguard.config import ConfigError, load_config
    from distillguard.ingest import MappingError, SourceError, StrictModeError
    from distillguard.pipeline import ENGINES, StageError, run_scan

    console = Console(stderr=True)
    if engine not in ENGINES:
        raise _fail(EXIT_BAD_INPUT, f"unknown engine {engine!r} (choose {' or '.join(ENGINES)})")
    try:
        config = load_config(config_path, threshold=threshold, mapping=mapping)
    except ConfigError as exc:
        raise _fail(EXIT_BAD_INPUT, str(exc)) from None
    if out.exists() and not out.is_dir():
        raise _fail(EXIT_BAD_INPUT, f"{out}: exists and is not a directory")
    try:
        with _progress(console, quiet) as progress:
            result = run_scan(
                paths,
                out,
                accounts=accounts,
                config=config,
                strict=strict,
                engine=engine,
                progress=progress,
                master=master,
                workers=workers,
            )
    except StrictModeError as exc:
        raise _fail(EXIT_BAD_INPUT, f"bad record (--strict): {exc}") from None
    except (SourceError, MappingError) as exc:
        raise _fail(EXIT_BAD_INPUT, str(exc)) from None
    except StageError as exc:
        if debug or os.environ.get("DISTILLGUARD_DEBUG"):
            console.print_exception()
        raise _fail(EXIT_INTERNAL, str(exc)) from None
    except KeyboardInterrupt:
        raise _fail(130, "interrupted") from None
    except Exception as exc:
        if debug or os.environ.get("DISTILLGUARD_DEBUG"):
            console.print_exception()
        hint = "" if debug else " (run with --debug for the traceback)"
        raise _fail(EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}{hint}") from None
    if not quiet:
        _print_summary(Console(), result.summary)
    return EXIT_OK


def _progress(console: Any, quiet: bool) -> Any:
    import contextlib

    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    if quiet or (not sys.stderr.isatty() and not os.environ.get("DISTILLGUARD_PROGRESS")):
        return contextlib.nullcontext(None)
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description:<20}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _print_summary(console: Any, summary: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="distillguard scan", show_header=False, title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(overflow="fold")
    reasons = summary.get("reject_reasons") or {}
    top = ", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
    table.add_row("input records", f"{summary['input_records']:,}", ", ".join(summary.get("sources", [])[:3]))
    table.add_row("exchanges", f"{summary['exchanges']:,}", "")
    table.add_row("rejected", f"{summary['rejected']:,}", top)
    table.add_row("duplicates", f"{summary['duplicates']:,}", "")
    table.add_row("accounts", f"{summary['accounts']:,}", "")
    table.add_row(
        "flagged accounts", f"{summary['flagged_accounts']:,}", f"risk >= {summary['threshold']:.2f}"
    )
    table.add_row("clusters", f"{summary['clusters']:,}", f"{summary.get('flagged_clusters', 0):,} flagged")
    table.add_row("findings", f"{summary.get('findings', 0):,}", "")
    timings = summary.get("timings") or {}
    stages = ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
    wall = summary.get("wall_seconds", sum(timings.values()))
    table.add_row("time", f"{wall:.1f} s", stages)
    outputs = summary.get("outputs") or {}
    if outputs:
        folder = Path(next(iter(outputs.values()))).parent
        table.add_row("outputs", "", f"{folder}/  " + " ".join(Path(p).name for p in outputs.values()))
    for error in summary.get("errors") or []:
        table.add_row("[red]error[/red]", "", error)
    console.print(table)
