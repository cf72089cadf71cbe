"""Use cases: the director starts a relationship; an approved match starts a one-to-one relationship."""

from __future__ import annotations

import uuid

from services.relationships.application.commands import StartRelationship
from services.relationships.application.container import Container
from services.relationships.domain.errors import InvalidCommand, MatchCannotStart
from shared.envelope import Envelope
from shared.events.matching import MatchApproved
from shared.ports import Conn

_NAMESPACE = uuid.UUID("6f1c3a52-4a8e-4c1e-9d37-0b3f2f6c1a10")


def relationship_id_for(match_id: str) -> str:
    """Deterministic, so a replayed or duplicated match never starts a second relationship."""
    return str(uuid.uuid5(_NAMESPACE, match_id))


async def handle(c: Container, cmd: StartRelationship) -> str:
    """The new relationship's id (a direct start gets a match id of its own, ``direct-…``)."""
    match_id = cmd.match_id or f"direct-{uuid.uuid4()}"
    relationship_id = relationship_id_for(match_id)
    async with c.transactions() as conn:
        relationship = await c.relationships.load(conn, relationship_id)
        events = relationship.start(cmd.model, cmd.mentor_id, list(cmd.mentee_ids), match_id, c.today())
        await c.relationships.commit(conn, relationship, events, correlation_id=cmd.correlation_id)
    return relationship_id


async def start_from_match(c: Container, conn: Conn, match: MatchApproved, envelope: Envelope) -> None:
    """In the consumer's transaction; a match already started is left alone (at-least-once delivery)."""
    relationship = await c.relationships.load(conn, relationship_id_for(match.match_id))
    if relationship.exists:
        return
    try:
        events = relationship.start("one_to_one", match.mentor_id, [match.mentee_id], match.match_id, c.today())
    except InvalidCommand as exc:
        raise MatchCannotStart(f"match {match.match_id} cannot start a relationship: {exc}") from exc
    await c.relationships.commit(
        conn, relationship, events, correlation_id=envelope.correlationid, causation_id=envelope.id
    )
