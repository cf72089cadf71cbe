"""The output directory: written beside OUT under a temporary name, renamed into place at the end.

An interrupted or failed export leaves nothing half-written at OUT.  An existing
OUT must be empty, or (with ``force``) an earlier export, recognised by its
manifest; any other non-empty directory is never deleted.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MANIFEST = "_manifest.json"


class OutputRefused(ValueError):
    pass


def check_output(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputRefused(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise OutputRefused(
                f"{out} is not empty; choose another directory, or pass --force to replace an earlier export"
            )
        if not (out / MANIFEST).is_file():
            raise OutputRefused(
                f"{out} is not empty and holds no {MANIFEST}: it is not an earlier export, so --force leaves it alone"
            )
    if not out.resolve().parent.is_dir():
        raise OutputRefused(f"{out.resolve().parent} does not exist")


@contextmanager
def staged(out: Path, force: bool) -> Iterator[Path]:
    """A fresh directory beside ``out``; on success it becomes ``out``, on failure it is removed."""
    check_output(out, force)
    out = out.resolve()
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        check_output(out, force)  # nobody filled it meanwhile
        if out.exists():
            retired = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            out.rename(retired)
            staging.rename(out)
            shutil.rmtree(retired)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
