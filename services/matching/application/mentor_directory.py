"""Keeps matching's copies of mentors and mentees in step with profiles events.

A departure withdraws the mentee's requests and passes on requests waiting for the mentor.
"""

from __future__ import annotations

import asyncpg

from services.matching.application.deps import Deps
from services.matching.application.forwarding import eligibility
from services.matching.application.program import get_program
from services.matching.domain.request import WITHDRAWABLE
from shared.envelope import Envelope
from shared.events import Event
from shared.events.profiles import (
    MenteeRegistered,
    MentorCapacityChanged,
    MentorRegistered,
    ParticipantDeactivated,
    ParticipantErased,
    ParticipantReactivated,
    ProfileUpdated,
)
from shared.inbox import Handler

_MENTOR_COLUMNS = {
    "name": "name",
    "profile.specialty": "specialty",
    "profile.interests": "interests",
    "profile.career_stage": "career_stage",
    "profile.languages": "languages",
    "profile.time_zone": "time_zone",
    "profile.biography": "biography",
    "profile.department": "department",
    "availability.formats": "formats",
    "availability.accepting_requests": "accepting_requests",
}
_MENTEE_COLUMNS = {
    "name": "name",
    "profile.specialty": "specialty",
    "profile.interests": "interests",
    "profile.career_stage": "career_stage",
    "profile.languages": "languages",
    "profile.time_zone": "time_zone",
    "profile.department": "department",
}
_NOT_NULL = {
    "specialty": "",
    "interests": [],
    "career_stage": "mid_career",
    "languages": ["en"],
    "time_zone": "UTC",
    "biography": "",
    "formats": ["video"],
    "accepting_requests": True,
}


async def on_mentor_registered(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, MentorRegistered)
    profile = event.profile
    await conn.execute(
        """
        INSERT INTO mentor_directory (mentor_id, name, specialty, interests, career_stage, languages, time_zone,
                                      biography, capacity, registered_at, source_event, department, formats,
                                      accepting_requests)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (mentor_id) DO UPDATE SET
            name = EXCLUDED.name, specialty = EXCLUDED.specialty, interests = EXCLUDED.interests,
            career_stage = EXCLUDED.career_stage, languages = EXCLUDED.languages,
            time_zone = EXCLUDED.time_zone, biography = EXCLUDED.biography, capacity = EXCLUDED.capacity,
            source_event = EXCLUDED.source_event, department = EXCLUDED.department, formats = EXCLUDED.formats,
            accepting_requests = EXCLUDED.accepting_requests
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
        profile.department,
        list(event.availability.formats),
        event.availability.accepting_requests,
    )
    await _link_employee(conn, event.participant_id, event.employee_id)


async def on_mentee_registered(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, MenteeRegistered)
    profile = event.profile
    await conn.execute(
        """
        INSERT INTO mentees (mentee_id, name, specialty, interests, career_stage, languages, time_zone, department,
                             registered_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (mentee_id) DO UPDATE SET
            name = EXCLUDED.name, specialty = EXCLUDED.specialty, interests = EXCLUDED.interests,
            career_stage = EXCLUDED.career_stage, languages = EXCLUDED.languages, time_zone = EXCLUDED.time_zone,
            department = EXCLUDED.department
        """,
        event.participant_id,
        event.name,
        profile.specialty,
        profile.interests,
        profile.career_stage,
        profile.languages,
        profile.time_zone,
        profile.department,
        envelope.time,
    )
    await _link_employee(conn, event.participant_id, event.employee_id)


async def on_profile_updated(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, ProfileUpdated)
    changes = {change.field: change.new for change in event.changes}
    if "employee_id" in changes:
        await _link_employee(conn, event.participant_id, changes["employee_id"], unlink=changes["employee_id"] is None)
    for table, key, columns in (
        ("mentor_directory", "mentor_id", _MENTOR_COLUMNS),
        ("mentees", "mentee_id", _MENTEE_COLUMNS),
    ):
        updates = {columns[f]: _value(columns[f], v) for f, v in changes.items() if f in columns}
        if updates:
            assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(updates, start=2))
            await conn.execute(
                f"UPDATE {table} SET {assignments} WHERE {key} = $1", event.participant_id, *updates.values()
            )


async def on_capacity_changed(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, MentorCapacityChanged)
    await conn.execute(
        "UPDATE mentor_directory SET capacity = $2 WHERE mentor_id = $1", event.participant_id, event.new_capacity
    )


async def on_reactivated(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, ParticipantReactivated)
    await _set_active(conn, event.participant_id, True)


def profile_handlers(deps: Deps) -> dict[str, Handler]:
    async def leave(conn: asyncpg.Connection, participant_id: str, reason: str, envelope: Envelope) -> None:
        """Out of the directory; their open requests withdrawn, requests waiting on them passed on."""
        await _set_active(conn, participant_id, False)
        ids = {"correlation_id": envelope.correlationid, "causation_id": envelope.id}
        own = await conn.fetch(
            "SELECT request_id FROM requests WHERE mentee_id = $1 AND status = ANY($2::text[])",
            participant_id,
            list(WITHDRAWABLE),
        )
        for row in own:
            request = await deps.requests.load(conn, row["request_id"])
            await deps.requests.commit(conn, request, request.withdraw(reason), **ids)
        waiting = await conn.fetch(
            "SELECT request_id FROM requests WHERE mentor_id = $1 AND status = 'forwarded'", participant_id
        )
        program = await get_program(conn, deps)
        for row in waiting:
            request = await deps.requests.load(conn, row["request_id"])
            events = request.pass_on(
                participant_id, await eligibility(conn, request), program.respond_by(deps.clock.now())
            )
            await deps.requests.commit(conn, request, events, **ids)

    async def on_deactivated(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, ParticipantDeactivated)
        await leave(conn, event.participant_id, f"mentee deactivated: {event.reason}", envelope)

    async def on_erased(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        """Erasure: as leaving, and the names and request texts matching copied are scrubbed."""
        assert isinstance(event, ParticipantErased)
        await leave(conn, event.participant_id, "mentee erased", envelope)
        await scrub_personal_data(conn, event.participant_id)

    return {
        MentorRegistered.type_name(): on_mentor_registered,
        MenteeRegistered.type_name(): on_mentee_registered,
        ProfileUpdated.type_name(): on_profile_updated,
        MentorCapacityChanged.type_name(): on_capacity_changed,
        ParticipantDeactivated.type_name(): on_deactivated,
        ParticipantReactivated.type_name(): on_reactivated,
        ParticipantErased.type_name(): on_erased,
    }


ERASED = "[erased]"


async def scrub_personal_data(conn: asyncpg.Connection, participant_id: str) -> None:
    await conn.execute(
        "UPDATE mentor_directory SET name = $2, biography = $2 WHERE mentor_id = $1", participant_id, ERASED
    )
    await conn.execute("UPDATE mentees SET name = $2 WHERE mentee_id = $1", participant_id, ERASED)
    await conn.execute(
        "UPDATE requests SET biography = $2, motivation = $2 WHERE mentee_id = $1", participant_id, ERASED
    )


async def _set_active(conn: asyncpg.Connection, participant_id: str, active: bool) -> None:
    await conn.execute("UPDATE mentor_directory SET active = $2 WHERE mentor_id = $1", participant_id, active)
    await conn.execute("UPDATE mentees SET active = $2 WHERE mentee_id = $1", participant_id, active)


async def _link_employee(conn: asyncpg.Connection, participant_id: str, employee_id, *, unlink: bool = False) -> None:
    if unlink:
        await conn.execute("DELETE FROM participant_employees WHERE participant_id = $1", participant_id)
    elif isinstance(employee_id, str) and employee_id:
        await conn.execute(
            "INSERT INTO participant_employees (participant_id, employee_id) VALUES ($1, $2)"
            " ON CONFLICT (participant_id) DO UPDATE SET employee_id = EXCLUDED.employee_id",
            participant_id,
            employee_id,
        )


def _value(column: str, value):
    if value is None and column in _NOT_NULL:
        return _NOT_NULL[column]
    return value
