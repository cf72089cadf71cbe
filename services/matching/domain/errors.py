"""What a matching command can run into: the shared error bases (``shared.errors``), which the HTTP edge maps
to their status codes once for every service (``shared.http.install_error_handlers``)."""

from __future__ import annotations

from shared.errors import InvalidCommand, NotAllowed, NotFound, RuleViolation


class MatchingRuleViolation(RuleViolation):
    """The current state does not allow the command (409)."""


__all__ = ["InvalidCommand", "MatchingRuleViolation", "NotAllowed", "NotFound"]
