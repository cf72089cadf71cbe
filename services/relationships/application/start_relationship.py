"""Use cases: a match starts a one-to-one relationship; the director starts group and peer relationships."""

from __future__ import annotations

import uuid
from uuid import UUID

from services.relationships.application.container import Container
from services.relationships.domain.relationship import Model
from shared.envelope import Envelope
from shared.events.matching import MatchApproved
from shared.ports import Conn

_NAMESPACE = uuid.UUID("6f1c3a52-4a8e-4c1e-9d37-0b3f2f6c1a10")


def relationship_id_for(match_id: str) -> str:
    """Deterministic, so a replayed or duplicated match never starts a second relationship."""
    return str(uuid.uuid5(_NAMESPACE, match_id))


async def start_from_match(c: Container, conn: Conn, match: MatchApproved, envelope: Envelope) -> None:
    relationship = await c.relationships.load(conn, relationship_id_for(match.match_id))
    if relationship.exists:
        return
    events = relationship.start("one_to_one", match.mentor_id, [match.mentee_id], match.match_id, c.today())
    await c.relationships.commit(
        conn, relationship, events, correlation_id=envelope.correlationid, causation_id=envelope.id
    )


async def start_relationship(
    c: Container,
    model: Model,
    mentor_id: str,
    mentee_ids: list[str],
    match_id: str | None = None,
    correlation_id: UUID | None = None,
) -> str:
    match_id = match_id or f"direct-{uuid.uuid4()}"
    relationship_id = relationship_id_for(match_id)
    async with c.transactions() as conn:
        relationship = await c.relationships.load(conn, relationship_id)
        events = relationship.start(model, mentor_id, mentee_ids, match_id, c.today())
        await c.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
    return relationship_id
