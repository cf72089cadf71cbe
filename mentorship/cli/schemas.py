"""``mentorship schemas``: (re)generate JSON Schemas and the AsyncAPI document from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.schemas import stale_schemas, write_schemas


def schemas(
    root: Annotated[Path, typer.Option(help="Repository root that holds schemas/")] = Path("."),
    check: Annotated[bool, typer.Option("--check", help="Only report stale files; exit 1 if any")] = False,
) -> None:
    """Write schemas/envelope.json, schemas/events/*.json and schemas/asyncapi.json."""
    if not (root / "pyproject.toml").exists():
        raise typer.BadParameter(f"{root} is not the repository root (no pyproject.toml)", param_hint="--root")
    if check:
        stale = stale_schemas(root)
        for path in stale:
            typer.echo(f"stale: {path}")
        raise typer.Exit(1 if stale else 0)
    written = write_schemas(root)
    typer.echo(f"wrote {len(written)} schema files under {root / 'schemas'}")
