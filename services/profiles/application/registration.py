"""Registering as mentor or mentee, onto a new participant or onto the person record HR created.

A staff member's registration lands on the participant HR already created for
them (same participant id, or named by ``employee_id``); an employee id or an
email that belongs to someone else is refused.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.profiles.adapters import read_model
from services.profiles.application.participants import commit, load
from services.profiles.domain.participant import ParticipantRuleViolation
from shared.events.profiles import MenteeRegistered, MentorRegistered
from shared.eventstore import EventStore


class EmailTaken(ParticipantRuleViolation):
    pass


class EmployeeTaken(ParticipantRuleViolation):
    pass


async def register(
    pool: asyncpg.Pool,
    store: EventStore,
    registration: MentorRegistered | MenteeRegistered,
    correlation_id: UUID | None = None,
) -> int:
    """Append the registration and rewrite the read model in one transaction; returns the new version."""
    participant_id = registration.participant_id
    async with pool.acquire() as conn, conn.transaction():
        participant = await load(conn, store, participant_id)
        if isinstance(registration, MentorRegistered):
            events = participant.register_mentor(registration)
        else:
            events = participant.register_mentee(registration)
        owner = await read_model.owner_of_email(conn, registration.email)
        if owner not in (None, participant_id):
            raise EmailTaken(f"email {registration.email} already belongs to another participant")
        if registration.employee_id is not None:
            owner = await read_model.owner_of_employee(conn, registration.employee_id)
            if owner not in (None, participant_id):
                raise EmployeeTaken(f"employee {registration.employee_id} is already participant {owner}")
        return await commit(conn, store, participant, events, correlation_id=correlation_id)
