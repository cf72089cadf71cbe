"""The fault table across pytest-xdist workers.

``make test`` runs two workers; the fault cases of each write their rows to a file of the worker's own. The
controller runs no test and loads only the root conftest (a sub-directory's conftest is loaded where its tests are
collected, in the workers), so the root conftest joins those files into ``test-artifacts/faults.txt``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TABLE_PATH = ROOT / "test-artifacts" / "faults.txt"
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _worker_files() -> list[Path]:
    return sorted(TABLE_PATH.parent.glob("faults-rows-*.json"))


def save_worker_rows(rows: list[dict[str, Any]]) -> None:
    TABLE_PATH.parent.mkdir(exist_ok=True)
    (TABLE_PATH.parent / f"faults-rows-{WORKER}.json").write_text(json.dumps(rows))


def clear_worker_rows() -> None:
    """Before a run: no rows of an earlier run are joined in."""
    for stale in _worker_files():
        stale.unlink(missing_ok=True)


def join_worker_rows() -> list[dict[str, Any]]:
    """Every worker's rows, their files removed."""
    rows: list[dict[str, Any]] = []
    for path in _worker_files():
        rows += json.loads(path.read_text())
        path.unlink()
    return rows
