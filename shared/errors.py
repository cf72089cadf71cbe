"""Errors every service shares (no I/O here, so use cases may import them)."""

from __future__ import annotations


class ConcurrencyConflict(Exception):
    """The stream moved on since the caller read it; reload and decide again."""

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        where = f"is at version {actual}" if actual is not None else "was appended to by another writer"
        super().__init__(
            f"stream {stream_id!r} {where}, not at the expected version {expected}: "
            "it was changed concurrently; reload and retry"
        )
        self.stream_id, self.expected, self.actual = stream_id, expected, actual


__all__ = ["ConcurrencyConflict"]
