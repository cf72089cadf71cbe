"""Load a participant from its stream; append what it decided and rewrite its read-model row, in one transaction."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.profiles.adapters import read_model
from services.profiles.adapters.personal_data import PersonalData
from services.profiles.domain.participant import Participant
from shared.events import Event, decode
from shared.eventstore import ConcurrencyConflict, EventStore

PERSONAL_DATA = PersonalData()


class ParticipantNotFound(LookupError):
    pass


async def load(
    conn: asyncpg.Connection, store: EventStore, participant_id: str, *, expected_version: int | None = None
) -> Participant:
    """``expected_version``: the version the caller last saw (``If-Match``); a stale one is a conflict."""
    history = await store.read_stream(conn, participant_id)
    events = [
        decode(e.type, await PERSONAL_DATA.open(conn, participant_id, e.type, e.data), e.schemaversion)
        for e in (stored.envelope for stored in history)
    ]
    participant = Participant.from_events(participant_id, events)
    if expected_version is not None and expected_version != participant.version:
        raise ConcurrencyConflict(participant_id, expected_version, participant.version)
    return participant


async def load_existing(
    conn: asyncpg.Connection, store: EventStore, participant_id: str, *, expected_version: int | None = None
) -> Participant:
    participant = await load(conn, store, participant_id, expected_version=expected_version)
    if not participant.exists:
        raise ParticipantNotFound(f"no participant {participant_id}")
    return participant


async def commit(
    conn: asyncpg.Connection,
    store: EventStore,
    participant: Participant,
    events: list[Event],
    *,
    correlation_id: UUID | None = None,
    causation_id: UUID | None = None,
) -> int:
    """Append at the version the decision was made on, evolve, rewrite the row; returns the new version."""
    if not events:
        return participant.version
    await store.append(
        conn,
        participant.participant_id,
        participant.version,
        events,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
    participant.apply_all(events)
    await read_model.save(conn, participant)
    return participant.version
