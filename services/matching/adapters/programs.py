"""Programs and enrolments in Postgres: the ``Programs`` port (``programs``, the view of each program's settings;
``program_settings``, the built-in program's settings saved before programs were data) and the ``Enrolments``
port (``enrolments``, and what eligibility reads of a person: ``mentees``/``mentor_directory``,
``participant_employees`` → ``hr_attributes``)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import date, datetime

import asyncpg

from services.matching.domain.compatibility import Weights
from services.matching.domain.enrolment import Enrolment, PersonFacts
from services.matching.domain.program import Program


class PostgresPrograms:
    def __init__(self) -> None:
        self._legacy: dict[str, tuple[Weights, int] | None] = {}

    async def legacy(self, conn: asyncpg.Connection, program_id: str) -> tuple[Weights, int] | None:
        """Read once per process: ``program_settings`` is what was saved before programs were data, and nothing
        writes it any more (every matching command on the built-in program read it: a round trip each)."""
        if program_id not in self._legacy:
            row = await conn.fetchrow(
                "SELECT weights, response_days FROM program_settings WHERE program_id = $1", program_id
            )
            self._legacy[program_id] = None if row is None else (Weights(**_json(row["weights"])), row["response_days"])
        return self._legacy[program_id]

    async def save_view(self, conn: asyncpg.Connection, program: Program, now: datetime) -> None:
        s = program.s
        await conn.execute(
            """INSERT INTO programs (program_id, version, name, model, matching_mode, priority_groups, settings,
                                     defined_at, changed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $8)
               ON CONFLICT (program_id) DO UPDATE SET
                   version = EXCLUDED.version, name = EXCLUDED.name, matching_mode = EXCLUDED.matching_mode,
                   priority_groups = EXCLUDED.priority_groups, settings = EXCLUDED.settings,
                   changed_at = EXCLUDED.changed_at""",
            program.program_id,
            program.version,
            s.name,
            s.model,
            s.matching_mode,
            list(s.eligibility.priority_groups),
            json.dumps(s.payload(), default=str),
            now,
        )


class PostgresEnrolments:
    async def person(self, conn: asyncpg.Connection, participant_id: str) -> PersonFacts:
        mentee = await conn.fetchrow(
            "SELECT active, department, career_stage, priority_group FROM mentees WHERE mentee_id = $1", participant_id
        )
        mentor = await conn.fetchrow(
            "SELECT active, department, career_stage, priority_group FROM mentor_directory WHERE mentor_id = $1",
            participant_id,
        )
        hr = await conn.fetchval(
            """SELECT h.attributes FROM participant_employees e JOIN hr_attributes h USING (employee_id)
               WHERE e.participant_id = $1""",
            participant_id,
        )
        row = mentee or mentor
        attributes = {k: str(v) for k, v in _json(hr or {}).items() if v is not None}
        return PersonFacts(
            participant_id,
            is_mentor=mentor is not None,
            is_mentee=mentee is not None,
            active=bool(row and row["active"]),
            department=(row["department"] if row else None) or attributes.get("department"),
            career_stage=row["career_stage"] if row else None,
            priority_group=row["priority_group"] if row else None,
            hr_attributes=attributes,
        )

    async def save(self, conn: asyncpg.Connection, e: Enrolment, now: datetime) -> None:
        if not e.enrolled:
            await conn.execute(
                "DELETE FROM enrolments WHERE program_id = $1 AND participant_id = $2", e.program_id, e.participant_id
            )
            return
        await conn.execute(
            """INSERT INTO enrolments (program_id, participant_id, role, capacity, enrolled_on)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (program_id, participant_id) DO UPDATE
               SET role = EXCLUDED.role, capacity = EXCLUDED.capacity, enrolled_on = EXCLUDED.enrolled_on""",
            e.program_id,
            e.participant_id,
            e.role,
            e.capacity,
            e.enrolled_at or now,
        )

    async def record_hr(
        self,
        conn: asyncpg.Connection,
        employee_id: str,
        attributes: dict[str, str | None],
        effective_date: date,
        recorded_at: datetime,
    ) -> None:
        """Merge the attributes into the employee's, unless a later record (by effective date, then recorded
        time) is already kept."""
        await conn.execute(
            """INSERT INTO hr_attributes (employee_id, attributes, effective_date, recorded_at)
               VALUES ($1, $2::text::jsonb, $3, $4)
               ON CONFLICT (employee_id) DO UPDATE
               SET attributes = hr_attributes.attributes || EXCLUDED.attributes,
                   effective_date = EXCLUDED.effective_date, recorded_at = EXCLUDED.recorded_at
               WHERE (hr_attributes.effective_date, hr_attributes.recorded_at)
                     <= (EXCLUDED.effective_date, EXCLUDED.recorded_at)""",
            employee_id,
            json.dumps(attributes),
            effective_date,
            recorded_at,
        )

    async def role(self, conn: asyncpg.Connection, program_id: str, participant_id: str) -> str | None:
        return await conn.fetchval(
            "SELECT role FROM enrolments WHERE program_id = $1 AND participant_id = $2", program_id, participant_id
        )

    async def in_groups(
        self, conn: asyncpg.Connection, participant_ids: Sequence[str], groups: Collection[str]
    ) -> set[str]:
        rows = await conn.fetch(
            """SELECT mentee_id AS id FROM mentees
               WHERE mentee_id = ANY($1::text[]) AND priority_group = ANY($2::text[])
               UNION SELECT mentor_id FROM mentor_directory
               WHERE mentor_id = ANY($1::text[]) AND priority_group = ANY($2::text[])""",
            list(participant_ids),
            list(groups),
        )
        return {r["id"] for r in rows}

    async def enrolled(self, conn: asyncpg.Connection, program_id: str, role: str) -> list[str]:
        rows = await conn.fetch(
            "SELECT participant_id FROM enrolments WHERE program_id = $1 AND role = $2 ORDER BY participant_id",
            program_id,
            role,
        )
        return [r["participant_id"] for r in rows]


def _json(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value)  # type: ignore[arg-type]
