"""``mentorship schemas``: (re)generate JSON Schemas and the AsyncAPI document from the code.

The current version of each event is generated; an older version's file (``<Type>.v<N>.json`` below the
current ``schema_version``) is kept as committed, the record of that version, and listed in the AsyncAPI
document beside the current one.  A missing older file (a branch that raised a version with a generator that
did not keep them deleted it) is taken back from git history: its content in the last commit that had it.
Without git history for it the command fails, naming the file."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import typer

from shared.schemas import MissingVersionRecord, missing_versions, stale_schemas, write_schemas


def restore_from_history(root: Path) -> list[str]:
    """Each missing older version's file as the last commit that had it held it; returns the paths restored."""
    restored = []
    for path in missing_versions(root):
        last = _git(root, "rev-list", "-n", "1", "HEAD", "--", path)  # the last commit that changed it
        # it holds the file (deleted in the work tree only), or deleted it (then its parent held it)
        text = (
            (_git(root, "show", f"{last}:{path}", strip=False) or _git(root, "show", f"{last}^:{path}", strip=False))
            if last
            else None
        )
        if text:
            (root / path).write_text(text, encoding="utf-8")
            restored.append(path)
    return restored


def _git(root: Path, *args: str, strip: bool = True) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return done.stdout.strip() if strip else done.stdout


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
    for path in restore_from_history(root):
        typer.echo(f"restored from git history: {path}")
    try:
        written = write_schemas(root)
    except MissingVersionRecord as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {len(written)} schema files under {root / 'schemas'}")
