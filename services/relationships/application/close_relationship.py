"""Use cases: a party or the director closes a relationship; someone leaving the institution closes theirs."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.relationships.adapters import read_model
from services.relationships.application.deps import Deps
from shared.envelope import Envelope
from shared.events.profiles import ParticipantDeactivated
from shared.events.relationships import ClosureReason


async def close_relationship(
    pool: asyncpg.Pool,
    deps: Deps,
    relationship_id: str,
    by: str,
    reason: ClosureReason,
    *,
    by_director: bool,
    rematch_requested: bool,
    correlation_id: UUID | None = None,
) -> int:
    async with pool.acquire() as conn, conn.transaction():
        relationship = await deps.relationships.get(conn, relationship_id)
        events = relationship.close(
            by, reason, deps.today(), by_director=by_director, rematch_requested=rematch_requested
        )
        return await deps.relationships.commit(conn, relationship, events, correlation_id=correlation_id)


async def close_for_departure(
    conn: asyncpg.Connection, deps: Deps, event: ParticipantDeactivated, envelope: Envelope
) -> None:
    """Only leaving the institution ends relationships; leave or an admin pause does not."""
    if event.reason != "left_institution":
        return
    for relationship_id in await read_model.open_ids_of(conn, event.participant_id):
        relationship = await deps.relationships.load(conn, relationship_id)
        events = relationship.participant_left(event.participant_id, deps.today())
        await deps.relationships.commit(
            conn, relationship, events, correlation_id=envelope.correlationid, causation_id=envelope.id
        )
