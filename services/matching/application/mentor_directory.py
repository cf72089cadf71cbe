"""Keeps matching's mentor directory in step with profiles events."""

from __future__ import annotations

import asyncpg

from shared.envelope import Envelope
from shared.events import Event
from shared.events.profiles import MentorRegistered


async def on_mentor_registered(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, MentorRegistered)
    profile = event.profile
    await conn.execute(
        """
        INSERT INTO mentor_directory (mentor_id, name, specialty, interests, career_stage, languages,
                                      time_zone, biography, capacity, registered_at, source_event)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (mentor_id) DO UPDATE SET
            name = EXCLUDED.name, specialty = EXCLUDED.specialty, interests = EXCLUDED.interests,
            career_stage = EXCLUDED.career_stage, languages = EXCLUDED.languages,
            time_zone = EXCLUDED.time_zone, biography = EXCLUDED.biography, capacity = EXCLUDED.capacity,
            source_event = EXCLUDED.source_event
        """,
        event.participant_id,
        event.name,
        profile.specialty,
        profile.interests,
        profile.career_stage,
        profile.languages,
        profile.time_zone,
        profile.biography,
        event.capacity,
        envelope.time,
        envelope.id,
    )


HANDLERS = {MentorRegistered.type_name(): on_mentor_registered}
