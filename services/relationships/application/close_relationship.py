"""Use cases: a party or the director closes a relationship; someone leaving the institution closes theirs."""

from __future__ import annotations

from services.relationships.application.commands import CloseRelationship
from services.relationships.application.container import Container
from services.relationships.application.leave_relationship import leave_all
from shared.envelope import Envelope
from shared.events.profiles import ParticipantDeactivated
from shared.ports import Conn


async def handle(c: Container, cmd: CloseRelationship) -> int:
    """The relationship's version after the closure."""
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, cmd.relationship_id)
        events = relationship.close(
            cmd.by, cmd.reason, c.today(), by_director=cmd.by_director, rematch_requested=cmd.rematch_requested
        )
        return await c.relationships.commit(conn, relationship, events, correlation_id=cmd.correlation_id)


async def close_for_departure(c: Container, conn: Conn, event: ParticipantDeactivated, envelope: Envelope) -> None:
    """Only leaving the institution ends relationships (a pair closes, a group or circle lets them go); leave or
    an admin pause does not."""
    if event.reason != "left_institution":
        return
    await leave_all(c, conn, event.participant_id, "left_institution", envelope.correlationid, envelope.id)
