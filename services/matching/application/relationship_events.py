"""Follows relationships: a start holds the mentor's slots, a closure frees them and may ask for a rematch.

A closure with ``rematch_requested`` opens, per mentee, a request waiting for the director
(``RequestUnmatched`` with the closing mentor as tried) — the same queue as requests whose ranked mentors
all declined — and the mentee may also submit a new ranked request, which supersedes it.
"""

from __future__ import annotations

import uuid

import asyncpg

from services.matching.application.deps import Deps
from shared.envelope import Envelope
from shared.events import Event
from shared.events.relationships import RelationshipClosed, RelationshipStarted
from shared.inbox import Handler

_NAMESPACE = uuid.UUID("0c9b3c55-54a4-4bb8-8a4e-5d1f3bb4a0e2")


def rematch_request_id(relationship_id: str, mentee_id: str) -> str:
    """Deterministic, so a redelivered closure never opens a second rematch request."""
    return str(uuid.uuid5(_NAMESPACE, f"{relationship_id}/{mentee_id}"))


def relationship_handlers(deps: Deps) -> dict[str, Handler]:
    async def on_started(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        """Relationships the director started directly hold slots too; those from our matches already do."""
        assert isinstance(event, RelationshipStarted)
        for mentee_id in event.mentee_ids:
            await conn.execute(
                "INSERT INTO active_pairs (mentor_id, mentee_id, match_id, since) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT DO NOTHING",
                event.mentor_id,
                mentee_id,
                event.match_id,
                envelope.time,
            )

    async def on_closed(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, RelationshipClosed)
        await conn.execute(
            "DELETE FROM active_pairs WHERE mentor_id = $1 AND mentee_id = ANY($2::text[])",
            event.mentor_id,
            event.mentee_ids,
        )
        if not event.rematch_requested:
            return
        for mentee_id in event.mentee_ids:
            active = await conn.fetchval("SELECT active FROM mentees WHERE mentee_id = $1", mentee_id)
            if active is False:
                continue
            request = await deps.requests.load(conn, rematch_request_id(event.relationship_id, mentee_id))
            await deps.requests.commit(
                conn,
                request,
                request.reopen_for_rematch(mentee_id, event.mentor_id),
                correlation_id=envelope.correlationid,
                causation_id=envelope.id,
            )

    return {RelationshipStarted.type_name(): on_started, RelationshipClosed.type_name(): on_closed}
