"""Use case: a participant (or an admin) edits part of a profile; only changed fields become events."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from pydantic import JsonValue

from services.profiles.adapters import read_model
from services.profiles.domain.participant import EditSource, require_email_free
from shared.eventstore import EventStore


async def edit_profile(
    pool: asyncpg.Pool,
    store: EventStore,
    participant_id: str,
    changes: dict[str, JsonValue],
    source: EditSource,
    *,
    expected_version: int | None = None,
    correlation_id: UUID | None = None,
) -> tuple[int, list[str]]:
    """Returns the version after the edit and the fields that changed (none: nothing was appended)."""
    participants = read_model.repository(store)
    async with pool.acquire() as conn, conn.transaction():
        participant = await participants.get(conn, participant_id, expected_version=expected_version)
        events = participant.edit(changes, source)
        if "email" in changes:
            email = str(changes["email"])
            require_email_free(email, await read_model.owner_of_email(conn, email), participant_id)
        changed = [change.field for event in events for change in event.changes]
        return await participants.commit(conn, participant, events, correlation_id=correlation_id), changed
