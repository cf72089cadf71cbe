"""The commands' terminal output."""

from __future__ import annotations

from typing import Any

from rich.console import Console


class LiveConsole:
    """A rich ``Console`` made afresh at each use.

    A ``Console`` reads ``COLUMNS`` once, when it is made; made at import, it kept the width of whatever
    environment imported the module first (80 columns in a pytest-xdist worker) and wrapped a table's cells
    where the terminal of the command's own run had room for them.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options

    def now(self) -> Console:
        """One console for something that keeps state across calls (a progress display)."""
        return Console(**self._options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.now(), name)
