"""The `distillguard` command. Each sub-command lives in its own module under `commands/`."""

from __future__ import annotations

import importlib

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
    app()


if __name__ == "__main__":
    main()
