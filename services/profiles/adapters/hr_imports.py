"""Profiles' bulk-import tables (the ``HrImports`` port): import sessions and the roster a snapshot declares."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from uuid import UUID

import asyncpg

from services.profiles.adapters.postgres import json_value

_SESSION = "import_id, mode, dry_run, as_of, counts, leavers, created_at, completed_at"


class PostgresHrImports:
    async def create(
        self,
        conn: asyncpg.Connection,
        import_id: UUID,
        mode: str,
        dry_run: bool,
        as_of: date,
        created_at: datetime,
        leavers: list[str],
    ) -> None:
        await conn.execute(
            "INSERT INTO hr_imports (import_id, mode, dry_run, as_of, leavers, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            import_id,
            mode,
            dry_run,
            as_of,
            leavers,
            created_at,
        )

    async def add_roster(self, conn: asyncpg.Connection, import_id: UUID, employee_ids: list[str]) -> None:
        await conn.execute(
            "INSERT INTO hr_import_roster (import_id, employee_id)"
            " SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
            import_id,
            sorted(set(employee_ids)),
        )

    async def fetch(
        self, conn: asyncpg.Connection | asyncpg.Pool, import_id: UUID, *, lock: bool = False
    ) -> dict | None:
        row = await conn.fetchrow(
            f"SELECT {_SESSION} FROM hr_imports WHERE import_id = $1" + (" FOR UPDATE" if lock else ""), import_id
        )
        if row is None:
            return None
        return {**dict(row), "counts": json_value(row["counts"])}

    async def add_counts(self, conn: asyncpg.Connection, import_id: UUID, counts: Counter[str]) -> None:
        session = await self.fetch(conn, import_id, lock=True)
        total = Counter(session["counts"]) + counts
        await conn.execute(
            "UPDATE hr_imports SET counts = $2::text::jsonb WHERE import_id = $1",
            import_id,
            json.dumps(dict(sorted(total.items()))),
        )

    async def mark_completed(self, conn: asyncpg.Connection, import_id: UUID, at: datetime) -> None:
        await conn.execute("UPDATE hr_imports SET completed_at = $2 WHERE import_id = $1", import_id, at)

    async def in_roster(self, conn: asyncpg.Connection, import_id: UUID, employee_ids: list[str]) -> set[str]:
        rows = await conn.fetch(
            "SELECT employee_id FROM hr_import_roster WHERE import_id = $1 AND employee_id = ANY($2::text[])",
            import_id,
            employee_ids,
        )
        return {r["employee_id"] for r in rows}

    async def current_workers(self, conn: asyncpg.Connection) -> list[str]:
        """Employees linked to a participant whose last applied status is not terminated."""
        rows = await conn.fetch(
            "SELECT employee_id FROM hr_workers"
            " WHERE participant_id IS NOT NULL AND applied ->> 'status' <> 'terminated' ORDER BY employee_id"
        )
        return [r["employee_id"] for r in rows]
