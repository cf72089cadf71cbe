"""What a command can run into; the HTTP edge maps each to a status code."""

from __future__ import annotations


class RelationshipRuleViolation(Exception):
    """The relationship's current state does not allow the command (409)."""


class NotAParty(PermissionError):
    """The caller is not a mentor or mentee of this relationship (403)."""


class RelationshipNotFound(LookupError):
    """No such relationship, or no such goal or meeting in it (404)."""


class InvalidCommand(ValueError):
    """A command whose field breaks a rule (422, naming the field)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason
