"""The `distillguard` console script. For a scan of large log files it starts the map workers'
process server before the CLI is imported: the server's imports (a few tenths of a second) then
overlap the CLI's own start-up (typer, and pydantic, which typer loads to read the arguments)
instead of following it.

Which arguments are files is not known before the CLI has parsed them, so the early start is a
guess from the arguments that name regular files; a wrong guess only costs an idle server or
leaves the start to the scan (`ingest.workers.prestart_for`), as without it.
"""

from __future__ import annotations

import itertools
import os
import sys


def main() -> None:
    if _large_scan(sys.argv[1:]):
        from distillguard.ingest.workers import PARALLEL_FROM_BYTES, start_server

        if _file_bytes(sys.argv[2:]) >= PARALLEL_FROM_BYTES:
            start_server()
    from distillguard.cli import main as cli_main

    cli_main()


def _large_scan(args: list[str]) -> bool:
    """A `scan` on the embedded engine that is not just asking for its help."""
    if not args or args[0] != "scan" or {"--help", "-h"} & set(args):
        return False
    spark = "--engine=spark" in args or any(
        a == "--engine" and b == "spark" for a, b in itertools.pairwise(args)
    )
    return not spark


def _file_bytes(args: list[str]) -> int:
    """Bytes of the arguments that are regular files."""
    total = 0
    for arg in args:
        try:
            if not arg.startswith("-") and os.path.isfile(arg):
                total += os.path.getsize(arg)
        except (OSError, ValueError):
            continue
    return total
