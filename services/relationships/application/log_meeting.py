"""Use case: a party logs a meeting; its notes are sealed into the confidential store, never into the event."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

from services.relationships.application.confidential import keep
from services.relationships.application.container import Container
from shared.events.profiles import MeetingFormat


async def log_meeting(
    c: Container,
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
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, relationship_id)
        events = relationship.log_meeting(
            by, meeting_id, held_on, duration_minutes, format, topic_tags, c.today(), c.topics
        )
        await c.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
        if notes:
            await keep(c, conn, "meeting_note", relationship_id, meeting_id, by, notes)
    return meeting_id
