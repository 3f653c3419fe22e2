"""`distillguard match`: which local accounts and clusters match a STIX bundle from another provider.

Exit codes: 0 at least one local account matched, 3 nothing matched, 2 bad input (malformed or
foreign bundle, incomplete scan directory, invalid config), 1 internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from distillguard.commands._common import command_errors

EXIT_MATCHED, EXIT_NO_MATCH = 0, 3


def register(app: typer.Typer) -> None:
    """Add the `match` command to the distillguard CLI."""

    @app.command("match")
    def match(
        bundle: Path = typer.Argument(..., help="STIX 2.1 bundle received from another provider."),
        scan_dir: Path = typer.Argument(..., help="Output directory of `distillguard scan`."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        config: Path | None = typer.Option(
            None,
            "--config",
            help="Scan configuration (YAML) with the share "
            "section (pseudonym key or its environment variable).",
        ),
        limit: int = typer.Option(50, "--limit", min=1, help="Accounts shown in the table."),
        debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal error."),
    ) -> None:
        """Match a received bundle's indicators against a local scan."""
        import orjson

        from distillguard.config import ConfigError, load_config
        from distillguard.report import ScanDirError
        from distillguard.share import BundleError, match_bundle

        with command_errors("match", (BundleError, ScanDirError, ConfigError, ValueError), debug):
            result = match_bundle(bundle, scan_dir, load_config(config))
        if as_json:
            typer.echo(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
        else:
            _print(result, limit)
        raise typer.Exit(EXIT_MATCHED if result.accounts else EXIT_NO_MATCH)


_SHORT = {
    "account": "acct",
    "email_domain": "email",
    "payment": "pay",
    "template": "tmpl",
    "user_agent": "ua",
}


def _print(result: Any, limit: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    source = f" from {escape(result.provider)}" if result.provider else ""
    console.print(
        f"bundle {escape(result.bundle_id)}{source}: {result.indicators} indicators, "
        f"{len(result.hits)} matched, {len(result.accounts)} local accounts"
    )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    if not result.accounts:
        return
    table = Table(title="Matching local accounts")
    for col, justify in (
        ("account", "left"),
        ("cluster", "left"),
        ("flagged", "left"),
        ("risk", "right"),
        ("ind.", "right"),
        ("exch.", "right"),
        ("matched on", "left"),
        ("campaigns", "left"),
    ):
        table.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in result.accounts[:limit]:
        table.add_row(
            escape(row["account_id"]),
            escape(row["cluster_id"] or "-"),
            "yes" if row["flagged"] else "no",
            f"{row['risk']:.2f}",
            str(row["indicators"]),
            f"{row['matching_exchanges']:,}",
            " ".join(_SHORT.get(k, k) for k in row["kinds"]),
            escape("; ".join(row["campaigns"])),
        )
    console.print(table)
    if len(result.accounts) > limit:
        console.print(f"... {len(result.accounts) - limit} more (use --json for all)")
    if result.clusters:
        clusters = Table(title="Matching local clusters")
        for col in ("cluster", "matched accounts", "accounts", "flagged", "campaigns"):
            clusters.add_column(col)
        for c in result.clusters:
            clusters.add_row(
                escape(c["cluster_id"]),
                str(c["matched_accounts"]),
                str(c["accounts"]),
                "yes" if c["flagged"] else "no",
                escape("; ".join(c["campaigns"])),
            )
        console.print(clusters)
