"""Use case: register a participant as a mentor."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.profiles.application.registration import register
from shared.events.profiles import MentorRegistered
from shared.eventstore import EventStore


async def register_mentor(
    pool: asyncpg.Pool, store: EventStore, registration: MentorRegistered, correlation_id: UUID | None = None
) -> int:
    return await register(pool, store, registration, correlation_id)
