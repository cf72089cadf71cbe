"""Errors every service shares (no I/O here, so domain and use cases may import them).

A service may subclass them under its own names; ``shared.http.install_error_handlers`` maps each to its
HTTP status, so an edge never maps them one by one.
"""

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


class RuleViolation(Exception):
    """The current state does not allow the command (HTTP 409)."""


class NotAllowed(PermissionError):
    """The caller may not act on this resource (HTTP 403)."""


class NotFound(LookupError):
    """No such resource (HTTP 404)."""


class InvalidCommand(ValueError):
    """A command whose field breaks a rule of meaning (HTTP 422, naming the field as FastAPI does)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


__all__ = ["ConcurrencyConflict", "InvalidCommand", "NotAllowed", "NotFound", "RuleViolation"]
