"""Use cases: a party or the director closes a relationship; someone leaving the institution closes theirs."""

from __future__ import annotations

from uuid import UUID

from services.relationships.application.container import Container
from shared.envelope import Envelope
from shared.events.profiles import ParticipantDeactivated
from shared.events.relationships import ClosureReason
from shared.ports import Conn


async def close_relationship(
    c: Container,
    relationship_id: str,
    by: str,
    reason: ClosureReason,
    *,
    by_director: bool,
    rematch_requested: bool,
    correlation_id: UUID | None = None,
) -> int:
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, relationship_id)
        events = relationship.close(by, reason, c.today(), by_director=by_director, rematch_requested=rematch_requested)
        return await c.relationships.commit(conn, relationship, events, correlation_id=correlation_id)


async def close_for_departure(c: Container, conn: Conn, event: ParticipantDeactivated, envelope: Envelope) -> None:
    """Only leaving the institution ends relationships; leave or an admin pause does not."""
    if event.reason != "left_institution":
        return
    for relationship_id in await c.read_model.open_ids_of(conn, event.participant_id):
        relationship = await c.relationships.load(conn, relationship_id)
        events = relationship.participant_left(event.participant_id, c.today())
        await c.relationships.commit(
            conn, relationship, events, correlation_id=envelope.correlationid, causation_id=envelope.id
        )
