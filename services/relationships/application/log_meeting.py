"""Use case: a party logs a meeting; its notes are sealed into the confidential store, never into the event."""

from __future__ import annotations

import uuid

from services.relationships.application.commands import LogMeeting
from services.relationships.application.confidential import keep
from services.relationships.application.container import Container
from shared.ports import Conn


async def handle(c: Container, cmd: LogMeeting) -> str:
    """The new meeting's id."""
    meeting_id = str(uuid.uuid4())
    async with c.transactions() as conn:
        await log_in(c, conn, cmd, meeting_id)
    return meeting_id


async def log_in(c: Container, conn: Conn, cmd: LogMeeting, meeting_id: str) -> None:
    """Log the meeting ``meeting_id`` in the caller's transaction (a scheduled meeting confirmed as held)."""
    relationship = await c.relationships.get(conn, cmd.relationship_id)
    events = relationship.log_meeting(
        cmd.by,
        meeting_id,
        cmd.held_on,
        cmd.duration_minutes,
        cmd.format,
        list(cmd.topic_tags),
        c.today(),
        c.topics,
        attendee_ids=list(cmd.attendee_ids) if cmd.attendee_ids else None,
    )
    await c.relationships.commit(conn, relationship, events, correlation_id=cmd.correlation_id)
    if cmd.notes:
        await keep(c, conn, "meeting_note", cmd.relationship_id, meeting_id, cmd.by, cmd.notes)
