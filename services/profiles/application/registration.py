"""Registering as mentor or mentee, onto a new participant or onto the person record HR created.

A staff member's registration lands on the participant HR already created for
them (same participant id, or named by ``employee_id``); an employee id or an
email that belongs to someone else is refused.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.profiles.adapters import read_model
from services.profiles.domain.participant import require_email_free, require_employee_free
from shared.events.profiles import MenteeRegistered, MentorRegistered
from shared.eventstore import EventStore


async def register(
    pool: asyncpg.Pool,
    store: EventStore,
    registration: MentorRegistered | MenteeRegistered,
    correlation_id: UUID | None = None,
) -> int:
    """Append the registration and rewrite the read model in one transaction; returns the new version."""
    participant_id = registration.participant_id
    participants = read_model.repository(store)
    async with pool.acquire() as conn, conn.transaction():
        participant = await participants.load(conn, participant_id)
        events = participant.register(registration)
        require_email_free(
            registration.email, await read_model.owner_of_email(conn, registration.email), participant_id
        )
        if registration.employee_id is not None:
            owner = await read_model.owner_of_employee(conn, registration.employee_id)
            require_employee_free(registration.employee_id, owner, participant_id)
        return await participants.commit(conn, participant, events, correlation_id=correlation_id)
