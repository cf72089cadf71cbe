"""What a command can run into: the shared error bases under this service's names.

``shared.http`` maps each base to its status code (409, 403, 404, 422 naming the field), so the
service registers no handlers of its own.
"""

from __future__ import annotations

from shared.errors import InvalidCommand, NotAllowed, NotFound, RuleViolation


class RelationshipRuleViolation(RuleViolation):
    """The relationship's current state does not allow the command (409)."""


class NotAParty(NotAllowed):
    """The caller is not a mentor or mentee of this relationship (403)."""


class RelationshipNotFound(NotFound):
    """No such relationship, or no such goal or meeting in it (404)."""


class MatchCannotStart(RelationshipRuleViolation):
    """A match whose pair can never form a relationship (e.g. a mentee matched with themselves): the
    consumer dead-letters it rather than retrying."""


__all__ = ["InvalidCommand", "MatchCannotStart", "NotAParty", "RelationshipNotFound", "RelationshipRuleViolation"]
