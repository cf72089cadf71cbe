"""Matching's copies of mentees and mentors as the pure domain's profiles."""

from __future__ import annotations

import asyncpg

from services.matching.domain.compatibility import (
    MenteeProfile,
    MentorProfile,
    utc_offset_minutes,
)
from services.matching.domain.errors import NotFound

_MENTORS = """
SELECT d.mentor_id, d.specialty, d.career_stage, d.languages, d.interests, d.time_zone, d.department, d.formats,
       CASE WHEN d.accepting_requests THEN d.capacity ELSE 0 END AS capacity,
       (SELECT count(*) FROM active_pairs p WHERE p.mentor_id = d.mentor_id) AS load
FROM mentor_directory d WHERE d.active ORDER BY d.mentor_id
"""


def _offset(time_zone: str) -> int:
    try:
        return utc_offset_minutes(time_zone)
    except (ValueError, KeyError, OSError):
        return 0


def mentee_of(row: asyncpg.Record) -> MenteeProfile:
    return MenteeProfile(
        mentee_id=row["mentee_id"],
        specialty=row["specialty"],
        career_stage=row["career_stage"],
        languages=tuple(row["languages"]),
        interests=frozenset(row["interests"]),
        utc_offset_minutes=_offset(row["time_zone"]),
        department=row["department"],
    )


def mentor_of(row: asyncpg.Record) -> MentorProfile:
    return MentorProfile(
        mentor_id=row["mentor_id"],
        specialty=row["specialty"],
        career_stage=row["career_stage"],
        languages=tuple(row["languages"]),
        interests=frozenset(row["interests"]),
        utc_offset_minutes=_offset(row["time_zone"]),
        department=row["department"],
        formats=frozenset(row["formats"]),
        capacity=row["capacity"],
        active_mentees=row["load"],
    )


async def mentee_profile(conn: asyncpg.Connection | asyncpg.Pool, mentee_id: str) -> MenteeProfile:
    row = await conn.fetchrow("SELECT * FROM mentees WHERE mentee_id = $1 AND active", mentee_id)
    if row is None:
        raise NotFound(f"no active mentee {mentee_id}")
    return mentee_of(row)


async def mentor_profiles(conn: asyncpg.Connection | asyncpg.Pool) -> list[MentorProfile]:
    return [mentor_of(row) for row in await conn.fetch(_MENTORS)]
