"""Read side: what the routes serve straight from the tables (the mentor directory, a participant, an import,
SCIM users).  No use case runs here; the tables are written through the repository and the port adapters.

The mentor directory lists only active mentors.  Capacity left is the mentor's capacity less the
mentees they are mentoring now (``active_mentees``, 0 until profiles follows relationships) and counts
only while they accept requests.  Demographics are shown only when the mentor consented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from services.profiles.adapters import scim_groups, scim_users
from services.profiles.adapters.hr_imports import PostgresHrImports
from shared.runtime import ServiceRuntime

PARTICIPANT = (
    "participant_id, name, email, employee_id, roles, capacity, profile, demographics, availability,"
    " training_status, training, priority_group, active, inactive_reason, version"
)
# The SCIM filters (``<attribute> eq "…"``) each table answers, as SQL conditions on $1.
_SCIM_FILTERS = {
    "scim_users": {
        "userName": "lower(user_name) = lower($1)",
        "externalId": "external_id = $1",
        "id": "user_id = $1",
    },
    "scim_groups": {
        "displayName": "lower(display_name) = lower($1)",
        "externalId": "external_id = $1",
        "id": "group_id = $1",
    },
}
_ENTRY = """
participant_id, name, profile, capacity, active_mentees, availability, training_status, demographics
"""


class Queries:
    """Reads on the runtime's pool (bound lazily: the pool exists once the service runs)."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool

    async def participant(self, participant_id: str) -> dict | None:
        row = await self.pool.fetchrow(
            f"SELECT {PARTICIPANT} FROM participants WHERE participant_id = $1", participant_id
        )
        return dict(row) if row is not None else None

    async def was_erased(self, participant_id: str) -> bool:
        erased = await self.pool.fetchval(
            "SELECT true FROM erased_participants WHERE participant_id = $1", participant_id
        )
        return erased or False

    async def demographics(self, participant_ids: list[str]) -> dict[str, dict | None]:
        """Each id's demographics as the read model keeps them (only while consented; ``None`` otherwise).
        Ids profiles does not hold are absent: the aggregate counts them as answers not given."""
        rows = await self.pool.fetch(
            "SELECT participant_id, demographics FROM participants"
            " WHERE participant_id = ANY($1::text[]) AND demographics IS NOT NULL",
            participant_ids,
        )
        return {r["participant_id"]: _json(r["demographics"]) for r in rows}

    async def mentors(self, f: MentorFilter, limit: int, offset: int) -> tuple[list[dict], int]:
        """One page of the mentor directory and the number of mentors the filter matches."""
        where, args = _where(f)
        n = len(args)
        async with self.pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM participants WHERE {where}", *args)
            rows = await conn.fetch(
                f"SELECT {_ENTRY} FROM participants WHERE {where} ORDER BY name, participant_id"
                f" LIMIT ${n + 1} OFFSET ${n + 2}",
                *args,
                limit,
                offset,
            )
        return [_entry(dict(r)) for r in rows], total

    async def hr_import(self, import_id: UUID) -> dict | None:
        return await PostgresHrImports().fetch(self.pool, import_id)

    async def scim_user(self, user_id: str) -> dict | None:
        return await scim_users.PostgresScimUsers().fetch(self.pool, user_id)

    async def scim_users(
        self, attribute: str | None, value: str | None, offset: int, limit: int
    ) -> tuple[list[dict], int]:
        """A page of users, optionally those whose userName (case-insensitive), externalId or id is ``value``."""
        rows, total = await self._scim_page(
            "scim_users", scim_users.COLUMNS, "user_id", attribute, value, offset, limit
        )
        return [scim_users.scim_row(r) for r in rows], total

    async def scim_group(self, group_id: str) -> dict | None:
        """A group (department) with its members: the SCIM users whose department is its name."""
        row = await scim_groups.PostgresScimGroups().fetch(self.pool, group_id)
        return None if row is None else await self._with_members(row)

    async def scim_groups(
        self, attribute: str | None, value: str | None, offset: int, limit: int
    ) -> tuple[list[dict], int]:
        """A page of groups, optionally those whose displayName (case-insensitive), externalId or id is ``value``."""
        rows, total = await self._scim_page(
            "scim_groups", scim_groups.COLUMNS, "group_id", attribute, value, offset, limit
        )
        return [await self._with_members(scim_users.scim_row(r)) for r in rows], total

    async def scim_groups_named(self, names: list[str]) -> dict[str, tuple[str, str]]:
        """lower(name) → (group id, name) of the groups (departments) with one of these names."""
        rows = await self.pool.fetch(
            "SELECT group_id, display_name FROM scim_groups WHERE lower(display_name) = ANY($1::text[])",
            sorted({n.lower() for n in names if n}),
        )
        return {r["display_name"].lower(): (r["group_id"], r["display_name"]) for r in rows}

    async def _scim_page(
        self,
        table: str,
        columns: str,
        id_column: str,
        attribute: str | None,
        value: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[asyncpg.Record], int]:
        """A page of ``table`` (scim_users or scim_groups) in the order created, and how many rows match the filter:
        ``attribute`` one of ``_SCIM_FILTERS`` (None: all rows)."""
        where, args = "true", []
        if attribute in _SCIM_FILTERS[table]:
            where, args = _SCIM_FILTERS[table][attribute], [value]
        total = await self.pool.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", *args)
        rows = await self.pool.fetch(
            f"SELECT {columns} FROM {table} WHERE {where} ORDER BY created_at, {id_column}"
            f" OFFSET ${len(args) + 1} LIMIT ${len(args) + 2}",
            *args,
            offset,
            limit,
        )
        return rows, total

    async def _with_members(self, row: dict) -> dict:
        return {
            **row,
            "members": await scim_groups.PostgresScimGroups().members(self.pool, row["resource"]["displayName"]),
        }


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
    meeting_format: str | None = None


_ANY_INTEREST = (
    "EXISTS (SELECT 1 FROM jsonb_array_elements_text(profile -> 'interests') i WHERE lower(i) = ANY($?::text[]))"
)
_CAPACITY_LEFT = (
    "(coalesce(capacity, 0) - active_mentees > 0 AND coalesce((availability ->> 'accepting_requests')::boolean, true))"
)
_WORDS = (
    "(profile ->> 'biography' ILIKE '%' || $? || '%' OR name ILIKE '%' || $? || '%'"
    " OR profile ->> 'specialty' ILIKE '%' || $? || '%')"
)


def _where(f: MentorFilter) -> tuple[str, list[object]]:
    """Active mentors, narrowed by each filter that is set; ``$?`` in a clause is its one argument."""
    clauses, args = ["active", "'mentor' = ANY(roles)"], []

    def where(clause: str, value: object) -> None:
        args.append(value)
        clauses.append(clause.replace("$?", f"${len(args)}"))

    for clause, value in (
        ("lower(profile ->> 'specialty') = lower($?)", f.specialty),
        (_ANY_INTEREST, [i.lower() for i in f.interests]),
        ("profile ->> 'career_stage' = $?", f.career_stage),
        ("profile -> 'languages' ? $?", f.language),
        ("profile ->> 'time_zone' = $?", f.time_zone),
        ("profile ->> 'location' ILIKE '%' || $? || '%'", f.location),
        ("availability -> 'formats' ? $?", f.meeting_format),
    ):
        if value:
            where(clause, value)
    if f.has_capacity is not None:
        clauses.append(_CAPACITY_LEFT if f.has_capacity else f"NOT {_CAPACITY_LEFT}")
    if f.trained is not None:
        clauses.append("training_status <> 'untrained'" if f.trained else "training_status = 'untrained'")
    if f.text:
        where(_WORDS, f.text)
    return " AND ".join(clauses), args


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


def _json(value: object) -> dict | None:
    """A jsonb value as the pool decodes it (text without a codec)."""
    return json.loads(value) if isinstance(value, str) else value  # type: ignore[return-value]
