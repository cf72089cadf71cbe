"""Use case: register a participant as a mentee."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.profiles.application.registration import register
from shared.events.profiles import MenteeRegistered
from shared.eventstore import EventStore


async def register_mentee(
    pool: asyncpg.Pool, store: EventStore, registration: MenteeRegistered, correlation_id: UUID | None = None
) -> int:
    return await register(pool, store, registration, correlation_id)
