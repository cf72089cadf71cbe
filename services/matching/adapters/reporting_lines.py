"""HR's reporting line in Postgres (``hr_supervisors``, ``participant_employees``): the ``ReportingLines`` port."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from services.matching.domain.reporting_line import participant_supervisors

_BOTH_TABLES = """
SELECT true AS participant, participant_id AS a, employee_id AS b FROM participant_employees
UNION ALL
SELECT false, employee_id, supervisor_id FROM hr_supervisors
"""


class PostgresReportingLines:
    async def supervisors(self, conn: asyncpg.Connection) -> dict[str, str]:
        rows = await conn.fetch(_BOTH_TABLES)  # one round trip for both tables (it was two per request submitted)
        return participant_supervisors(
            {r["a"]: r["b"] for r in rows if r["participant"]},
            {r["a"]: r["b"] for r in rows if not r["participant"]},
        )

    async def record(
        self,
        conn: asyncpg.Connection,
        employee_id: str,
        supervisor_id: str | None,
        effective_date: date,
        recorded_at: datetime,
    ) -> None:
        """An older fact arriving late (by effective date, then recording time) does not undo a newer one."""
        await conn.execute(
            """INSERT INTO hr_supervisors (employee_id, supervisor_id, effective_date, recorded_at)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (employee_id) DO UPDATE SET supervisor_id = EXCLUDED.supervisor_id,
                   effective_date = EXCLUDED.effective_date, recorded_at = EXCLUDED.recorded_at
               WHERE (hr_supervisors.effective_date, hr_supervisors.recorded_at)
                     <= (EXCLUDED.effective_date, EXCLUDED.recorded_at)""",
            employee_id,
            supervisor_id,
            effective_date,
            recorded_at,
        )

    async def link(self, conn: asyncpg.Connection, participant_id: str, employee_id: str) -> None:
        await conn.execute(
            "INSERT INTO participant_employees (participant_id, employee_id) VALUES ($1, $2)"
            " ON CONFLICT (participant_id) DO UPDATE SET employee_id = EXCLUDED.employee_id",
            participant_id,
            employee_id,
        )

    async def unlink(self, conn: asyncpg.Connection, participant_id: str) -> None:
        await conn.execute("DELETE FROM participant_employees WHERE participant_id = $1", participant_id)
