"""Use case: a party logs a meeting; its notes are sealed into the confidential store, never into the event."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

import asyncpg

from services.relationships.adapters import confidential
from services.relationships.application.deps import Deps
from shared.events.profiles import MeetingFormat


async def log_meeting(
    pool: asyncpg.Pool,
    deps: Deps,
    relationship_id: str,
    by: str,
    *,
    held_on: date,
    duration_minutes: int,
    format: MeetingFormat,
    topic_tags: list[str],
    notes: str | None,
    correlation_id: UUID | None = None,
) -> str:
    meeting_id = str(uuid.uuid4())
    async with pool.acquire() as conn, conn.transaction():
        relationship = await deps.relationships.get(conn, relationship_id)
        events = relationship.log_meeting(
            by, meeting_id, held_on, duration_minutes, format, topic_tags, deps.today(), deps.topics
        )
        await deps.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
        if notes:
            await confidential.write(
                conn, deps.cipher, "meeting_note", relationship_id, meeting_id, by, notes, deps.clock.now()
            )
    return meeting_id
