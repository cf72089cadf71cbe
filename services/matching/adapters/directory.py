"""Matching's copies of mentors and mentees in Postgres (``mentor_directory``, ``mentees``): the ``Directory``
port, and the rows → the pure domain's profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.matching.application.ports import MenteeRecord
from services.matching.domain.compatibility import MenteeProfile, MentorProfile, utc_offset_minutes
from services.matching.domain.request import OPEN
from services.matching.domain.rules import MenteeStanding, MentorStanding
from shared.events.matching import DEFAULT_PROGRAM
from shared.events.profiles import MenteeRegistered, MentorRegistered

_MENTORS = """
SELECT d.mentor_id, d.specialty, d.career_stage, d.languages, d.interests, d.time_zone, d.department, d.formats,
       CASE WHEN d.accepting_requests THEN mentor_capacity(d.mentor_id, $1) ELSE 0 END AS capacity,
       mentor_load(d.mentor_id, $1) AS load
FROM mentor_directory d
WHERE d.active AND ($1 = 'default' OR EXISTS (SELECT 1 FROM enrolments e
      WHERE e.program_id = $1 AND e.participant_id = d.mentor_id AND e.role = 'mentor'))
ORDER BY d.mentor_id
"""
_PEOPLE = """
SELECT m.mentee_id, m.name, m.specialty, m.interests, m.career_stage, m.languages, m.time_zone, m.department,
       m.active, m.priority_group FROM mentees m
UNION ALL
SELECT d.mentor_id, d.name, d.specialty, d.interests, d.career_stage, d.languages, d.time_zone, d.department,
       d.active, d.priority_group FROM mentor_directory d
WHERE NOT EXISTS (SELECT 1 FROM mentees m WHERE m.mentee_id = d.mentor_id)
"""
_FREE_MENTEES = f"""
SELECT m.* FROM ({_PEOPLE}) m
WHERE m.active
  AND NOT EXISTS (SELECT 1 FROM requests r
                  WHERE r.mentee_id = m.mentee_id AND r.program_id = $3 AND r.status = ANY($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM active_pairs p WHERE p.mentee_id = m.mentee_id AND p.program_id = $3)
  AND NOT EXISTS (SELECT 1 FROM group_members g WHERE g.participant_id = m.mentee_id AND g.program_id = $3)
  AND ($2::text[] IS NULL OR m.mentee_id = ANY($2::text[]))
  AND CASE WHEN $3 = 'default' THEN EXISTS (SELECT 1 FROM mentees x WHERE x.mentee_id = m.mentee_id)
           ELSE EXISTS (SELECT 1 FROM enrolments e WHERE e.program_id = $3 AND e.participant_id = m.mentee_id
                        AND e.role IN ('mentee', 'peer')) END
ORDER BY m.mentee_id
"""
_MENTEE_COLUMNS = {
    "name": "name",
    "profile.specialty": "specialty",
    "profile.interests": "interests",
    "profile.career_stage": "career_stage",
    "profile.languages": "languages",
    "profile.time_zone": "time_zone",
    "profile.department": "department",
    "priority_group": "priority_group",
}
"""A changed field's path (``ProfileUpdated``) → its column."""
_MENTOR_COLUMNS = {
    **_MENTEE_COLUMNS,
    "profile.biography": "biography",
    "availability.formats": "formats",
    "availability.accepting_requests": "accepting_requests",
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


_MENTEE_STANDING = """
SELECT (SELECT active FROM mentees WHERE mentee_id = $1) AS active,
       (SELECT request_id FROM requests WHERE mentee_id = $1 AND program_id = $3 AND status = ANY($2::text[])
        LIMIT 1) AS open_request_id,
       (SELECT mentor_id FROM active_pairs WHERE mentee_id = $1 AND program_id = $3 LIMIT 1) AS mentor_id,
       (SELECT role FROM enrolments WHERE program_id = $3 AND participant_id = $1) AS enrolled_as,
       ARRAY(SELECT request_id FROM requests WHERE mentee_id = $1 AND program_id = $3 AND status = 'unmatched'
             ORDER BY request_id) AS unmatched_request_ids
"""


class PostgresDirectory:
    async def mentee_standing(
        self, conn: asyncpg.Connection, mentee_id: str, program_id: str = DEFAULT_PROGRAM
    ) -> MenteeStanding:
        """Takes the per-mentee advisory lock (``mentee-request:<id>``) before reading, until the transaction ends.

        The lock is its own statement, so the reads after it see what a transaction that held it committed (a
        statement reads the rows committed when it starts); the reads are one statement (they were four round
        trips; and a fifth for the requests a new one supersedes)."""
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('mentee-request:' || $1))", mentee_id)
        row = await conn.fetchrow(_MENTEE_STANDING, mentee_id, list(OPEN), program_id)
        return MenteeStanding(
            mentee_id,
            active=row["active"],
            open_request_id=row["open_request_id"],
            mentor_id=row["mentor_id"],
            enrolled=program_id == DEFAULT_PROGRAM or row["enrolled_as"] == "mentee",
            unmatched_request_ids=tuple(row["unmatched_request_ids"]),
        )

    async def mentor_standings(
        self, conn: asyncpg.Connection, mentee_id: str, mentor_ids: Sequence[str], program_id: str = DEFAULT_PROGRAM
    ) -> dict[str, MentorStanding]:
        rows = await conn.fetch(
            """SELECT d.mentor_id, d.active, d.accepting_requests, mentor_capacity(d.mentor_id, $3) AS capacity,
                      mentor_load(d.mentor_id, $3) AS load,
                      EXISTS (SELECT 1 FROM active_pairs p WHERE p.mentor_id = d.mentor_id AND p.mentee_id = $2)
                          AS paired,
                      $3 = 'default' OR EXISTS (SELECT 1 FROM enrolments e WHERE e.program_id = $3
                          AND e.participant_id = d.mentor_id AND e.role = 'mentor') AS enrolled
               FROM mentor_directory d WHERE d.mentor_id = ANY($1::text[])""",
            list(mentor_ids),
            mentee_id,
            program_id,
        )
        return {r["mentor_id"]: MentorStanding(**dict(r)) for r in rows}

    async def mentee_active(self, conn: asyncpg.Connection, mentee_id: str) -> bool | None:
        return await conn.fetchval("SELECT active FROM mentees WHERE mentee_id = $1", mentee_id)

    async def mentee_profile(self, conn: asyncpg.Connection, mentee_id: str) -> MenteeProfile | None:
        row = await conn.fetchrow("SELECT * FROM mentees WHERE mentee_id = $1 AND active", mentee_id)
        return None if row is None else mentee_of(row)

    async def mentor_profiles(self, conn: asyncpg.Connection, program_id: str = DEFAULT_PROGRAM) -> list[MentorProfile]:
        return [mentor_of(row) for row in await conn.fetch(_MENTORS, program_id)]

    async def mentees(self, conn: asyncpg.Connection, mentee_ids: Sequence[str]) -> dict[str, MenteeRecord]:
        rows = await conn.fetch("SELECT * FROM mentees WHERE mentee_id = ANY($1::text[])", list(mentee_ids))
        return {r["mentee_id"]: MenteeRecord(mentee_of(r), r["active"]) for r in rows}

    async def free_mentees(
        self, conn: asyncpg.Connection, among: Sequence[str] | None = None, program_id: str = DEFAULT_PROGRAM
    ) -> list[MenteeProfile]:
        rows = await conn.fetch(_FREE_MENTEES, list(OPEN), None if among is None else list(among), program_id)
        return [mentee_of(r) for r in rows]

    async def register_mentor(
        self, conn: asyncpg.Connection, event: MentorRegistered, at: datetime, source_event: UUID
    ) -> None:
        row = {
            "mentor_id": event.participant_id,
            **_registered(event, at),
            "biography": event.profile.biography,
            "capacity": event.capacity,
            "source_event": source_event,
            "formats": list(event.availability.formats),
            "accepting_requests": event.availability.accepting_requests,
        }
        await _upsert(conn, "mentor_directory", row)

    async def register_mentee(self, conn: asyncpg.Connection, event: MenteeRegistered, at: datetime) -> None:
        await _upsert(conn, "mentees", {"mentee_id": event.participant_id, **_registered(event, at)})

    async def update_profile(self, conn: asyncpg.Connection, participant_id: str, changes: Mapping[str, Any]) -> None:
        for table, key, columns in (
            ("mentor_directory", "mentor_id", _MENTOR_COLUMNS),
            ("mentees", "mentee_id", _MENTEE_COLUMNS),
        ):
            updates = {columns[f]: _value(columns[f], v) for f, v in changes.items() if f in columns}
            if updates:
                assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(updates, start=2))
                await conn.execute(
                    f"UPDATE {table} SET {assignments} WHERE {key} = $1", participant_id, *updates.values()
                )

    async def set_capacity(self, conn: asyncpg.Connection, mentor_id: str, capacity: int) -> None:
        await conn.execute("UPDATE mentor_directory SET capacity = $2 WHERE mentor_id = $1", mentor_id, capacity)

    async def set_active(self, conn: asyncpg.Connection, participant_id: str, active: bool) -> None:
        await conn.execute("UPDATE mentor_directory SET active = $2 WHERE mentor_id = $1", participant_id, active)
        await conn.execute("UPDATE mentees SET active = $2 WHERE mentee_id = $1", participant_id, active)

    async def scrub(self, conn: asyncpg.Connection, participant_id: str, erased: str) -> None:
        await conn.execute(
            "UPDATE mentor_directory SET name = $2, biography = $2 WHERE mentor_id = $1", participant_id, erased
        )
        await conn.execute("UPDATE mentees SET name = $2 WHERE mentee_id = $1", participant_id, erased)


def _registered(event: MentorRegistered | MenteeRegistered, at: datetime) -> dict[str, Any]:
    """The columns mentors and mentees share, from their registration."""
    profile = event.profile
    return {
        "name": event.name,
        "specialty": profile.specialty,
        "interests": profile.interests,
        "career_stage": profile.career_stage,
        "languages": profile.languages,
        "time_zone": profile.time_zone,
        "department": profile.department,
        "priority_group": event.priority_group,
        "registered_at": at,
    }


async def _upsert(conn: asyncpg.Connection, table: str, row: dict[str, Any]) -> None:
    """Insert the row keyed by its first column; a registration seen again rewrites all but ``registered_at``."""
    columns = list(row)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:] if c != "registered_at")
    placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    await conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
        f" ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}",
        *row.values(),
    )


def _value(column: str, value: Any) -> Any:
    if value is None and column in _NOT_NULL:
        return _NOT_NULL[column]
    return value


def _offset(time_zone: str) -> int:
    try:
        return utc_offset_minutes(time_zone)
    except (ValueError, KeyError, OSError):
        return 0


def _common(row: asyncpg.Record) -> dict[str, Any]:
    """The fields mentee and mentor profiles share."""
    return {
        "specialty": row["specialty"],
        "career_stage": row["career_stage"],
        "languages": tuple(row["languages"]),
        "interests": frozenset(row["interests"]),
        "utc_offset_minutes": _offset(row["time_zone"]),
        "department": row["department"],
    }


def mentee_of(row: asyncpg.Record) -> MenteeProfile:
    return MenteeProfile(mentee_id=row["mentee_id"], **_common(row))


def mentor_of(row: asyncpg.Record) -> MentorProfile:
    return MentorProfile(
        mentor_id=row["mentor_id"],
        **_common(row),
        formats=frozenset(row["formats"]),
        capacity=row["capacity"],
        active_mentees=row["load"],
    )
