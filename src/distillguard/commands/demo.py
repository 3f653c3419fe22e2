"""`distillguard demo`: simulate the `quick` world, scan it, evaluate the scan, show the report.

The first command to run on a fresh machine: it needs no data (the simulator ships a small
prompt set), takes well under a minute and leaves a report to open in a browser.
Exit codes: 0 done, 1 a stage failed, 2 a bad scenario or output path.
"""

from __future__ import annotations

from pathlib import Path

import typer

from distillguard.commands._common import EXIT_BAD_INPUT, EXIT_INTERNAL, fail

DEMO_SEED = 1000  # an evaluation seed: the demo reports, it does not tune


def register(app: typer.Typer) -> None:
    """Add the `demo` command to the distillguard CLI."""

    @app.command("demo")
    def demo_cmd(
        out: Path = typer.Option(
            Path("demo-out"), "--out", "-o", help="Folder for the world, scan and report."
        ),
        seed: int = typer.Option(DEMO_SEED, "--seed", help="World seed (>= 1000: an evaluation world)."),
        scenario: str = typer.Option("quick", "--scenario", help="Scenario to simulate."),
    ) -> None:
        """Simulate labelled traffic, scan it, evaluate the scan and say where the report is."""
        import time

        from rich.console import Console

        from distillguard.config import load_config
        from distillguard.evaluate import evaluate
        from distillguard.evaluate.render import to_rich
        from distillguard.pipeline import run_scan
        from distillguard.simulate import ScenarioError, simulate

        console = Console()
        if out.exists() and not out.is_dir():
            raise fail("demo", EXIT_BAD_INPUT, f"{out} exists and is not a directory")
        world_dir, scan_dir = out / "world", out / "scan"
        started = time.perf_counter()
        try:
            console.print(f"1/3 simulating scenario '{scenario}' (seed {seed}, eval split) into {world_dir}")
            sim = simulate(scenario, world_dir, seed=seed, split="eval")
            console.print(
                f"    {sim.exchanges:,} exchanges from {sim.accounts:,} accounts "
                f"({sim.campaign_accounts} in {len(sim.campaign_exchanges)} campaigns) in {sim.seconds:.1f} s"
            )
            console.print(f"2/3 scanning into {scan_dir}")
            result = run_scan(
                [sim.exchanges_path], scan_dir, accounts=sim.accounts_path, config=load_config(None)
            )
            s = result.summary
            console.print(
                f"    {s.get('flagged_accounts', 0)} of {s.get('accounts', 0)} accounts flagged, "
                f"{s.get('clusters', 0)} clusters"
            )
            console.print("3/3 evaluating against the ground truth")
            report = evaluate(sim.truth_path, scan_dir)
        except ScenarioError as exc:
            raise fail("demo", EXIT_BAD_INPUT, str(exc)) from None
        except Exception as exc:
            raise fail("demo", EXIT_INTERNAL, f"failed: {type(exc).__name__}: {exc}") from None
        (out / "evaluation.md").write_text(report.to_markdown(), encoding="utf-8")
        (out / "evaluation.html").write_text(report.to_html(), encoding="utf-8")
        for table in to_rich(report):
            console.print(table)
        report_html = scan_dir / "report.html"
        console.print(f"done in {time.perf_counter() - started:.0f} s.", markup=False)
        if report_html.is_file():
            console.print(f"report:     {report_html.resolve()}", markup=False, highlight=False)
        for note in [*result.errors, *report.notes]:
            console.print(f"note: {note}", markup=False, highlight=False)
        console.print(f"evaluation: {(out / 'evaluation.html').resolve()}", markup=False, highlight=False)
        console.print(
            f"next: distillguard evaluate {scan_dir} --truth {sim.truth_path} --ttd   (time to detection)",
            markup=False,
            highlight=False,
        )
