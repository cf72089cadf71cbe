"""Query: the mentor directory, filtered and paged, from the participants read model.

Only active mentors are listed.  Capacity left is the mentor's capacity less the
mentees they are mentoring now (``active_mentees``, 0 until profiles follows
relationships) and counts only while they accept requests.  Demographics are
shown only when the mentor consented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

_ENTRY = """
participant_id, name, profile, capacity, active_mentees, availability, training_status, demographics
"""


@dataclass(frozen=True)
class MentorFilter:
    specialty: str | None = None
    interests: list[str] = field(default_factory=list)
    career_stage: str | None = None
    language: str | None = None
    time_zone: str | None = None
    location: str | None = None
    has_capacity: bool | None = None
    trained: bool | None = None
    text: str | None = None


def _where(f: MentorFilter) -> tuple[str, list[object]]:
    clauses = ["active", "'mentor' = ANY(roles)"]
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if f.specialty:
        clauses.append(f"lower(profile ->> 'specialty') = lower({arg(f.specialty)})")
    if f.interests:
        clauses.append(
            f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(profile -> 'interests') i"
            f" WHERE lower(i) = ANY({arg([i.lower() for i in f.interests])}::text[]))"
        )
    if f.career_stage:
        clauses.append(f"profile ->> 'career_stage' = {arg(f.career_stage)}")
    if f.language:
        clauses.append(f"profile -> 'languages' ? {arg(f.language)}")
    if f.time_zone:
        clauses.append(f"profile ->> 'time_zone' = {arg(f.time_zone)}")
    if f.location:
        clauses.append(f"profile ->> 'location' ILIKE '%' || {arg(f.location)} || '%'")
    if f.has_capacity is not None:
        left = (
            "(coalesce(capacity, 0) - active_mentees > 0"
            " AND coalesce((availability ->> 'accepting_requests')::boolean, true))"
        )
        clauses.append(left if f.has_capacity else f"NOT {left}")
    if f.trained is not None:
        clauses.append("training_status <> 'untrained'" if f.trained else "training_status = 'untrained'")
    if f.text:
        term = arg(f.text)
        clauses.append(
            f"(profile ->> 'biography' ILIKE '%' || {term} || '%' OR name ILIKE '%' || {term} || '%'"
            f" OR profile ->> 'specialty' ILIKE '%' || {term} || '%')"
        )
    return " AND ".join(clauses), args


async def search_mentors(pool: asyncpg.Pool, f: MentorFilter, limit: int, offset: int) -> tuple[list[dict], int]:
    where, args = _where(f)
    n = len(args)
    async with pool.acquire() as conn:
        total = await conn.fetchval(f"SELECT count(*) FROM participants WHERE {where}", *args)
        rows = await conn.fetch(
            f"SELECT {_ENTRY} FROM participants WHERE {where} ORDER BY name, participant_id"
            f" LIMIT ${n + 1} OFFSET ${n + 2}",
            *args,
            limit,
            offset,
        )
    return [_entry(dict(r)) for r in rows], total


def _entry(row: dict) -> dict:
    profile, availability = row.pop("profile"), row.pop("availability") or {}
    demographics, load = row.pop("demographics"), row.pop("active_mentees")
    accepting = availability.get("accepting_requests", True)
    capacity = row["capacity"] or 0
    return {
        **row,
        **{
            key: profile.get(key)
            for key in (
                "biography",
                "specialty",
                "interests",
                "career_stage",
                "job_function",
                "department",
                "location",
                "time_zone",
                "languages",
            )
        },
        "capacity": capacity,
        "capacity_left": max(capacity - load, 0) if accepting else 0,
        "accepting_requests": accepting,
        "meeting_formats": availability.get("formats", []),
        "demographics": demographics if demographics and demographics.get("consented") else None,
    }
