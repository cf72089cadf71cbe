"""``mentorship schemas``: (re)generate JSON Schemas and the AsyncAPI document from the code.

The current version of each event is generated; an older version's file (``<Type>.v<N>.json`` below the
current ``schema_version``) is kept as committed, the record of that version, and listed in the AsyncAPI
document beside the current one.  A missing older file is an error: restore it from git history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.schemas import MissingVersionRecord, stale_schemas, write_schemas


def schemas(
    root: Annotated[Path, typer.Option(help="Repository root that holds schemas/")] = Path("."),
    check: Annotated[bool, typer.Option("--check", help="Only report stale files; exit 1 if any")] = False,
) -> None:
    """Write schemas/envelope.json, schemas/events/*.json (older versions kept) and schemas/asyncapi.json."""
    if not (root / "pyproject.toml").exists():
        raise typer.BadParameter(f"{root} is not the repository root (no pyproject.toml)", param_hint="--root")
    if check:
        stale = stale_schemas(root)
        for path in stale:
            typer.echo(f"stale: {path}")
        raise typer.Exit(1 if stale else 0)
    try:
        written = write_schemas(root)
    except MissingVersionRecord as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {len(written)} schema files under {root / 'schemas'}")
