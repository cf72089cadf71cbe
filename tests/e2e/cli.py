"""The ``mentorship`` command (``python -m mentorship.cli``) run as its own process, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIDE_TERMINAL = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}
"""An environment of nothing but a 200-column terminal and the system's PATH."""


def mentorship(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run from the repository's root with ``env`` (by default this process's), output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "mentorship.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def plain(text: str) -> str:
    """Rich draws errors in a box and wraps them; compare words only."""
    return " ".join(text.replace("│", " ").split())
