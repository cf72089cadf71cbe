"""What a matching command can run into; the HTTP edge maps each to a status code."""

from __future__ import annotations


class MatchingRuleViolation(Exception):
    """The current state does not allow the command (409)."""


class NotAllowed(PermissionError):
    """The caller may not act on this request or run (403)."""


class NotFound(LookupError):
    """No such request, mentee, program or bulk run (404)."""


class InvalidCommand(ValueError):
    """A command whose field breaks a rule (422, naming the field)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason
