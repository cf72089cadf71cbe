"""Use case: a mentor sets how many mentees they take at once (0 = not taking mentees)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.profiles.adapters import read_model
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
    participants = read_model.repository(store)
    async with pool.acquire() as conn, conn.transaction():
        participant = await participants.get(conn, participant_id, expected_version=expected_version)
        events = participant.change_capacity(capacity)
        return await participants.commit(conn, participant, events, correlation_id=correlation_id)
