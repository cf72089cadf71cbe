"""Use case: a mentor sets how many mentees they take at once (0 = not taking mentees)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.profiles.application.participants import commit, load_existing
from shared.eventstore import EventStore


async def change_capacity(
    pool: asyncpg.Pool,
    store: EventStore,
    participant_id: str,
    capacity: int,
    *,
    expected_version: int | None = None,
    correlation_id: UUID | None = None,
) -> int:
    async with pool.acquire() as conn, conn.transaction():
        participant = await load_existing(conn, store, participant_id, expected_version=expected_version)
        events = participant.change_capacity(capacity)
        return await commit(conn, store, participant, events, correlation_id=correlation_id)
