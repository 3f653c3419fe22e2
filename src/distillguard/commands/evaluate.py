"""`distillguard evaluate`: score a scan against a simulated world's ground truth.

Exit codes: 0 evaluated, 2 unreadable truth file or scan directory.
"""

from __future__ import annotations

from pathlib import Path

import typer

from distillguard.commands._common import EXIT_BAD_INPUT, fail


def register(app: typer.Typer) -> None:
    """Add the `evaluate` command to the distillguard CLI."""

    @app.command("evaluate")
    def evaluate_cmd(
        scan_dir: Path = typer.Argument(..., help="Output directory of `distillguard scan`."),
        truth: Path = typer.Option(
            ..., "--truth", "-t", help="truth.jsonl of the simulated world, or its folder."
        ),
        markdown: Path | None = typer.Option(None, "--markdown", help="Also write the report as Markdown."),
        html: Path | None = typer.Option(None, "--html", help="Also write the report as HTML."),
        json_out: Path | None = typer.Option(None, "--json", help="Also write every figure as JSON."),
        ttd: bool = typer.Option(
            False, "--ttd", help="Measure time to detection by re-scanning growing prefixes of the world."
        ),
        ttd_hours: str | None = typer.Option(
            None,
            "--ttd-hours",
            help="Comma-separated prefix cutoffs in hours (default 1,3,6,12,24,36,48,...).",
        ),
        config: Path | None = typer.Option(
            None, "--config", help="Scan configuration for --ttd prefix scans."
        ),
    ) -> None:
        """Per-archetype flag rates, precision/recall/FPR, campaign recall, exchange attribution, ARI, TTD."""
        import orjson
        from rich.console import Console

        from distillguard.evaluate import EvaluationError, evaluate, measure_ttd
        from distillguard.evaluate.render import to_rich

        try:
            report = evaluate(truth, scan_dir)
            if ttd:
                from distillguard.config import load_config

                hours = _hours(ttd_hours) if ttd_hours else None
                rows, cutoffs = measure_ttd(
                    truth if truth.is_dir() else truth.parent, hours, config=load_config(config)
                )
                report.ttd = rows
                report.notes.append(
                    "prefix scans (hours: flagged legit / flagged campaign accounts): "
                    + ", ".join(
                        f"{c['hours']:g}h: {c['flagged_legit']}/{c['flagged_campaign']}" for c in cutoffs
                    )
                )
            else:
                report.notes.append("time to detection not measured: add --ttd to re-scan growing prefixes")
        except (EvaluationError, ValueError) as exc:
            raise fail("evaluate", EXIT_BAD_INPUT, str(exc)) from None
        console = Console()
        for table in to_rich(report):
            console.print(table)
        for note in report.notes:
            console.print(f"note: {note}", markup=False, highlight=False)
        for path, text in ((markdown, report.to_markdown), (html, report.to_html)):
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text(), encoding="utf-8")
                console.print(f"wrote {path}", markup=False)
        if json_out:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_bytes(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2))
            console.print(f"wrote {json_out}", markup=False)


def _hours(text: str) -> list[float]:
    try:
        hours = [float(h) for h in text.split(",") if h.strip()]
    except ValueError:
        raise ValueError(f"--ttd-hours must be comma-separated numbers of hours, not {text!r}") from None
    if not hours or any(h <= 0 for h in hours):
        raise ValueError(f"--ttd-hours must be positive numbers of hours, not {text!r}")
    return hours
