"""The `distillguard` command. Each sub-command lives in its own module under `commands/`."""

from __future__ import annotations

import importlib
import os
import sys

import typer

app = typer.Typer(
    name="distillguard",
    help="Detect and counter distillation attacks on language-model APIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines `register(app)`; heavy imports stay inside the command bodies so that
# `distillguard --help` is instant.
_COMMAND_MODULES = ("scan", "simulate", "evaluate", "demo", "report", "match", "gateway")

for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"distillguard.commands.{_name}")
    except ModuleNotFoundError as exc:  # a command whose module is not installed yet
        if exc.name != f"distillguard.commands.{_name}":
            raise
        continue
    _module.register(app)


def main() -> None:
    """The console script. Once the command has returned, every output is written and closed,
    so the process leaves without tearing the interpreter down: freeing a scan's heap object by
    object took 0.3 s of a 7 s scan. Callers that import `app` (tests, embedding) are unaffected."""
    try:
        app()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):  # sys.exit("message"): the message goes to stderr, status 1
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


if __name__ == "__main__":
    main()
