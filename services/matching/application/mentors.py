"""What matching knows of mentors right now: who may be offered a mentee, and their load under lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.matching.domain.errors import MatchingRuleViolation
from services.matching.domain.hard_filters import InReportingLine
from services.matching.domain.reporting_line import participant_supervisors


async def supervisors(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, str]:
    """participant id → nearest participant above them in HR's reporting line."""
    employees = await conn.fetch("SELECT participant_id, employee_id FROM participant_employees")
    lines = await conn.fetch("SELECT employee_id, supervisor_id FROM hr_supervisors")
    return participant_supervisors(
        {r["participant_id"]: r["employee_id"] for r in employees},
        {r["employee_id"]: r["supervisor_id"] for r in lines},
    )


async def line_above(conn: asyncpg.Connection | asyncpg.Pool, participant_id: str) -> set[str]:
    return set(InReportingLine(await supervisors(conn)).line_above(participant_id))


async def exclusions(conn: asyncpg.Connection, mentee_id: str, mentor_ids: Sequence[str]) -> dict[str, str | None]:
    """Per mentor, why they cannot be offered this mentee now, or None."""
    rows = await conn.fetch(
        """SELECT d.mentor_id, d.active, d.accepting_requests, d.capacity,
                  (SELECT count(*) FROM active_pairs p WHERE p.mentor_id = d.mentor_id) AS load,
                  EXISTS (SELECT 1 FROM active_pairs p WHERE p.mentor_id = d.mentor_id AND p.mentee_id = $2) AS paired
           FROM mentor_directory d WHERE d.mentor_id = ANY($1::text[])""",
        list(mentor_ids),
        mentee_id,
    )
    known = {r["mentor_id"]: r for r in rows}
    above = await line_above(conn, mentee_id)
    reasons: dict[str, str | None] = {}
    for mentor_id in mentor_ids:
        row = known.get(mentor_id)
        if mentor_id == mentee_id:
            reasons[mentor_id] = "a mentee cannot be their own mentor"
        elif row is None:
            reasons[mentor_id] = f"{mentor_id} is not a mentor in the directory"
        elif not row["active"]:
            reasons[mentor_id] = f"mentor {mentor_id} is not active"
        elif row["paired"]:
            reasons[mentor_id] = f"mentor {mentor_id} already mentors this mentee"
        elif not row["accepting_requests"] or row["load"] >= row["capacity"]:
            reasons[mentor_id] = f"mentor {mentor_id} has no capacity left"
        elif mentor_id in above:
            reasons[mentor_id] = f"mentor {mentor_id} is in the mentee's reporting line"
        else:
            reasons[mentor_id] = None
    return reasons


async def reserve(conn: asyncpg.Connection, mentor_id: str, mentee_id: str, match_id: str, now: datetime) -> None:
    """Take one of the mentor's slots, or refuse: the mentor's row is locked until the transaction ends,
    so two acceptances for the same mentor are counted one after the other."""
    capacity = await conn.fetchval(
        "SELECT capacity FROM mentor_directory WHERE mentor_id = $1 AND active FOR UPDATE", mentor_id
    )
    if capacity is None:
        raise MatchingRuleViolation(f"mentor {mentor_id} is not an active mentor")
    load = await conn.fetchval("SELECT count(*) FROM active_pairs WHERE mentor_id = $1", mentor_id)
    if load >= capacity:
        raise MatchingRuleViolation(f"mentor {mentor_id} has no capacity left ({load} of {capacity} mentees)")
    if mentor_id in await line_above(conn, mentee_id):
        raise MatchingRuleViolation(f"mentor {mentor_id} is in mentee {mentee_id}'s reporting line")
    inserted = await conn.fetchval(
        "INSERT INTO active_pairs (mentor_id, mentee_id, match_id, since) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING true",
        mentor_id,
        mentee_id,
        match_id,
        now,
    )
    if not inserted:
        raise MatchingRuleViolation(f"mentor {mentor_id} already mentors {mentee_id}")
