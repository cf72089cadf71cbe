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


class EventTooLarge(Exception):
    """A command whose event would exceed the largest event the bus carries (HTTP 413); nothing was written.

    ``field`` names the event's largest field, the likeliest thing to shorten.
    """

    def __init__(self, event_type: str, size: int, limit: int, field: str | None = None) -> None:
        largest = f"; its largest field is {field!r}" if field else ""
        super().__init__(
            f"the {event_type} event this request would record is {size:,} bytes, over the limit of {limit:,}"
            f" bytes (MENTORSHIP_MAX_EVENT_BYTES){largest}: nothing was recorded; send less"
        )
        self.event_type, self.size, self.limit, self.field = event_type, size, limit, field


__all__ = ["ConcurrencyConflict", "EventTooLarge", "InvalidCommand", "NotAllowed", "NotFound", "RuleViolation"]
