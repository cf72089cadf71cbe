"""Use case: erase a person (right to erasure) — ``ParticipantErased``, and their personal data is gone.

In one transaction: the event is appended (it carries no personal data), the
read-model row is removed (a tombstone remembers only that they were erased),
the HR facts and SCIM user about their worker are deleted and later ones are
not kept, and their data key is shredded, so whatever was sealed under it
(``adapters.personal_data``) reads as placeholders from now on.  Erasing twice
changes nothing.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.profiles.adapters import hr_records, personal_data, read_model
from shared.eventstore import EventStore


async def erase_participant(
    pool: asyncpg.Pool, store: EventStore, participant_id: str, *, correlation_id: UUID | None = None
) -> bool:
    """True when this call erased them, False when they already were."""
    participants = read_model.repository(store)
    async with pool.acquire() as conn, conn.transaction():
        participant = await participants.get(conn, participant_id)
        events = participant.erase()
        if not events:
            return False
        await participants.commit(conn, participant, events, correlation_id=correlation_id)
        await hr_records.erase_worker(conn, participant_id)
        await personal_data.shred(conn, participant_id)
        return True
