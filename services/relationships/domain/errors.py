"""What a command can run into: the shared error bases under this service's names.

``shared.http`` maps each base to its status code (409, 403, 404, 422 naming the field), so the
service registers no handlers of its own.
"""

from __future__ import annotations

from shared.errors import InvalidCommand, NotAllowed, NotFound, RuleViolation


class RelationshipRuleViolation(RuleViolation):
    """The relationship's current state does not allow the command (409)."""


class RelationshipNotFound(NotFound):
    """No such relationship, or no such goal or meeting in it (404)."""


class NotAParty(RelationshipNotFound):
    """The caller is not a mentor or mentee of this relationship: to them it is not found (404), in the same
    words as an id nobody holds, so relationship ids cannot be probed."""

    def __init__(self, relationship_id: str) -> None:
        super().__init__(f"no relationship {relationship_id}")


class ConfidentialToParties(NotAllowed):
    """The program director asked for notes or comments only the parties read (403: they know it exists)."""


class NotForThisRole(NotAllowed):
    """The caller is a party, but not in the role the command needs (a group's mentee closing it, or proposing
    its agreement; a member recording someone else's leaving) (403)."""


class MatchCannotStart(RelationshipRuleViolation):
    """A match whose pair can never form a relationship (e.g. a mentee matched with themselves): the
    consumer dead-letters it rather than retrying."""


__all__ = [
    "ConfidentialToParties",
    "InvalidCommand",
    "MatchCannotStart",
    "NotAParty",
    "NotForThisRole",
    "RelationshipNotFound",
    "RelationshipRuleViolation",
]
