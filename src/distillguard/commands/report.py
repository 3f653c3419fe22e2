"""`distillguard report`: rebuild report.html (and, on request, indicators.stix.json) from a scan directory.

Exit codes: 0 written, 2 bad input (not a complete scan directory, invalid config), 1 internal error.
"""

from __future__ import annotations

from pathlib import Path

import typer

from distillguard.commands._common import command_errors


def register(app: typer.Typer) -> None:
    """Add the `report` command to the distillguard CLI."""

    @app.command("report")
    def report(
        scan_dir: Path = typer.Argument(..., help="Output directory of `distillguard scan`."),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="HTML file (default SCAN_DIR/report.html)."
        ),
        max_drilldowns: int = typer.Option(
            200, "--max-drilldowns", min=0, help="Flagged accounts with a drill-down panel, riskiest first."
        ),
        indicators: bool = typer.Option(
            False, "--indicators", help="Also rewrite SCAN_DIR/indicators.stix.json."
        ),
        config: Path | None = typer.Option(
            None, "--config", help="Scan configuration (YAML); its share section is used with --indicators."
        ),
        debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal error."),
    ) -> None:
        """Build the self-contained HTML report of a scan."""
        from distillguard.config import ConfigError, load_config
        from distillguard.report import ScanDirError, write_report
        from distillguard.share import resolve_key, share_config, write_bundle

        with command_errors("report", (ScanDirError, ConfigError, ValueError), debug):
            cfg = load_config(config) if indicators else None
            path = write_report(scan_dir, out, max_drilldowns=max_drilldowns)
            typer.echo(f"wrote {path}")
            if indicators:
                typer.echo(f"wrote {write_bundle(scan_dir, cfg)}")
                share = share_config(cfg)
                if resolve_key(share).ephemeral:
                    typer.echo(
                        f"note: no pseudonym key (share.pseudonym_key or ${share.pseudonym_key_env}): "
                        "the bundle's pseudonyms use a one-off key and will match nothing",
                        err=True,
                    )
