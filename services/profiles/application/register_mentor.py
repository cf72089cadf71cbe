"""Use case: register a participant as a mentor."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from shared.eventstore import EventStore
from shared.events.profiles import MentorRegistered
from services.profiles.domain.participant import Participant, ParticipantRuleViolation


class EmailTaken(ParticipantRuleViolation):
    pass


async def register_mentor(
    pool: asyncpg.Pool, store: EventStore, registration: MentorRegistered, correlation_id: UUID | None = None
) -> int:
    """Append ``MentorRegistered`` and update the read model in one transaction; returns the new version."""
    async with pool.acquire() as conn, conn.transaction():
        history = await store.read_stream(conn, registration.participant_id)
        participant = Participant.from_events(registration.participant_id, [e.event for e in history])
        events = participant.register_mentor(registration)
        owner = await conn.fetchval(
            "SELECT participant_id FROM participants WHERE email = $1", registration.email
        )
        if owner is not None and owner != registration.participant_id:
            raise EmailTaken(f"email {registration.email} already belongs to another participant")
        envelopes = await store.append(
            conn, registration.participant_id, participant.version, events, correlation_id=correlation_id
        )
        version = envelopes[-1].sequence
        await conn.execute(
            """
            INSERT INTO participants (participant_id, email, name, roles, capacity, profile, version)
            VALUES ($1, $2, $3, ARRAY['mentor'], $4, $5, $6)
            ON CONFLICT (participant_id) DO UPDATE
               SET roles = array_append(participants.roles, 'mentor'),
                   capacity = EXCLUDED.capacity, version = EXCLUDED.version, updated_at = now()
            """,
            registration.participant_id,
            registration.email,
            registration.name,
            registration.capacity,
            registration.profile.model_dump(mode="json"),
            version,
        )
        return version
