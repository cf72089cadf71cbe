"""Use case: a participant (or an admin) edits part of a profile; only changed fields become events."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from pydantic import JsonValue

from services.profiles.adapters import read_model
from services.profiles.application.participants import commit, load_existing
from services.profiles.application.registration import EmailTaken
from services.profiles.domain.participant import EditSource
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
    async with pool.acquire() as conn, conn.transaction():
        participant = await load_existing(conn, store, participant_id, expected_version=expected_version)
        events = participant.edit(changes, source)
        if "email" in changes:
            owner = await read_model.owner_of_email(conn, str(changes["email"]))
            if owner not in (None, participant_id):
                raise EmailTaken(f"email {changes['email']} already belongs to another participant")
        changed = [change.field for event in events for change in event.changes]
        return await commit(conn, store, participant, events, correlation_id=correlation_id), changed
