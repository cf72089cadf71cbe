"""Use case: record that a mentor completed the workshop or read the handbook."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

import asyncpg

from services.profiles.adapters import read_model
from shared.clock import Clock
from shared.eventstore import EventStore


async def complete_training(
    pool: asyncpg.Pool,
    store: EventStore,
    clock: Clock,
    participant_id: str,
    kind: Literal["workshop", "handbook"],
    completed_on: date,
    *,
    expected_version: int | None = None,
    correlation_id: UUID | None = None,
) -> int:
    participants = read_model.repository(store)
    async with pool.acquire() as conn, conn.transaction():
        participant = await participants.get(conn, participant_id, expected_version=expected_version)
        events = participant.complete_training(kind, completed_on, today=clock.now().date())
        return await participants.commit(conn, participant, events, correlation_id=correlation_id)
