"""The ``mentorship`` command.

Each subcommand's module is imported only when it runs (``mentorship hr import`` does not load the dev
stack, the exporter's Arrow or the web framework); ``mentorship --help`` and ``app`` load them all.
"""

from __future__ import annotations

import importlib
import sys

import typer

HELP = "Mentoring-program platform: run it, mint tokens, generate schemas."
_GROUPS = ("dev", "hr", "outbox", "privacy")  # typer apps in mentorship.cli.<name>
_COMMANDS = ("token", "schemas", "replay", "republish", "export")  # functions <name> in mentorship.cli.<name>


def build(only: str | None = None) -> typer.Typer:
    """The command with every subcommand, or with ``only`` that one."""
    app = typer.Typer(help=HELP, no_args_is_help=True)

    @app.callback()
    def _group() -> None:
        """Mentoring-program platform: run it, mint tokens, generate schemas."""

    for name in _GROUPS:
        if only in (None, name):
            app.add_typer(importlib.import_module(f"mentorship.cli.{name}").app, name=name)
    for name in _COMMANDS:
        if only in (None, name):
            app.command(name)(getattr(importlib.import_module(f"mentorship.cli.{name}"), name))
    return app


def main() -> None:
    # httpx imports its own command-line tool when it is imported (``httpx._main``: click, pygments, rich's syntax
    # and progress), which no command here runs; a None entry in sys.modules makes that import fail, and httpx
    # falls back as when its optional CLI extra is missing. Every command that talks HTTP starts the cheaper
    # (``hr import``: bench/hr_import.py, the nightly snapshot).
    sys.modules.setdefault("httpx._main", None)
    name = sys.argv[1] if len(sys.argv) > 1 else None
    build(name if name in _GROUPS + _COMMANDS else None)()


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return build()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
