"""What the CLI commands share: exit codes, the one-line error message, internal-error handling."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def fail(command: str, code: int, message: str) -> typer.Exit:
    """Print `distillguard COMMAND: MESSAGE` on stderr and return the exit to raise with `code`."""
    typer.echo(f"distillguard {command}: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def command_errors(command: str, bad_input: tuple[type[Exception], ...], debug: bool) -> Iterator[None]:
    """Turn errors in the block into exits: `bad_input` types exit 2 with their message; any other
    exception exits 1 with a one-line summary, or propagates with its traceback under --debug or
    DISTILLGUARD_DEBUG."""
    try:
        yield
    except bad_input as exc:
        raise fail(command, EXIT_BAD_INPUT, str(exc)) from None
    except Exception as exc:
        if debug or os.environ.get("DISTILLGUARD_DEBUG"):
            raise
        raise fail(
            command, EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc} (run with --debug)"
        ) from None
