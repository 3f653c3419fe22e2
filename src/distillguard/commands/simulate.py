"""`distillguard simulate`: write a labelled world of API traffic from a scenario.

Exit codes: 0 written, 2 bad scenario or options.
"""

from __future__ import annotations

from pathlib import Path

import typer

from distillguard.commands._common import EXIT_BAD_INPUT, fail


def register(app: typer.Typer) -> None:
    """Add the `simulate` command to the distillguard CLI."""

    @app.command("simulate")
    def simulate_cmd(
        scenario: str = typer.Option(
            ..., "--scenario", "-s", help="Built-in scenario (quick, reference, stealth) or a YAML file."
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Output directory for the world's files."),
        scale: float = typer.Option(1.0, "--scale", help="Multiplies every account count."),
        seed: int = typer.Option(
            1000, "--seed", help="World seed. Seeds >= 1000 with --split eval are for reporting quality."
        ),
        split: str = typer.Option(
            "eval", "--split", help="Corpus half: 'train' (tuning, seeds < 1000) or 'eval' (reporting)."
        ),
        fmt: str = typer.Option(
            "jsonl", "--format", help="jsonl, or parquet to also write exchanges.parquet."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    ) -> None:
        """Simulate realistic API traffic with ground truth: legitimate archetypes and campaigns."""
        from rich.console import Console
        from rich.table import Table

        from distillguard.simulate import ScenarioError, simulate

        console = Console(stderr=True)
        if split not in ("train", "eval"):
            console.print(f"[red]distillguard simulate:[/] --split must be 'train' or 'eval', not {split!r}")
            raise typer.Exit(2)
        if fmt not in ("jsonl", "parquet"):
            console.print(
                f"[red]distillguard simulate:[/] --format must be 'jsonl' or 'parquet', not {fmt!r}"
            )
            raise typer.Exit(2)
        if not scale > 0:
            console.print(f"[red]distillguard simulate:[/] --scale must be positive, not {scale}")
            raise typer.Exit(2)
        if out.exists() and not out.is_dir():
            raise fail("simulate", EXIT_BAD_INPUT, f"{out} exists and is not a directory")
        if split == "train" and seed >= 1000 and not quiet:
            console.print("[yellow]note:[/] seeds >= 1000 are reserved for reporting; tune on seeds < 1000")
        try:
            result = simulate(scenario, out, scale=scale, seed=seed, split=split, fmt=fmt)  # type: ignore[arg-type]
        except ScenarioError as exc:
            raise fail("simulate", EXIT_BAD_INPUT, str(exc)) from None
        if quiet:
            return
        table = Table(title=f"world '{result.scenario}' (seed {seed}, split {split}, scale {scale:g})")
        table.add_column("what")
        table.add_column("count", justify="right")
        table.add_row("exchanges", f"{result.exchanges:,}")
        table.add_row("accounts", f"{result.accounts:,}")
        table.add_row("campaign accounts", f"{result.campaign_accounts:,}")
        for cid, n in result.campaign_exchanges.items():
            table.add_row(f"  campaign {cid}", f"{n:,} exchanges")
        rate = result.exchanges / result.seconds if result.seconds else 0.0
        table.add_row("time", f"{result.seconds:.2f} s ({rate:,.0f} exchanges/s)")
        Console().print(table)
        Console().print(
            f"wrote {result.exchanges_path}, {result.accounts_path}, {result.truth_path} and "
            f"{result.out_dir / 'exchange_truth.parquet'}\n"
            f"next: distillguard scan {result.exchanges_path} --accounts {result.accounts_path} "
            "--out SCAN_DIR"
        )
