"""Profiles' bulk-import tables (the ``HrImports`` port): import sessions and the roster a snapshot declares."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from services.profiles.adapters.postgres import json_value

_encode = msgspec.json.Encoder().encode  # bytes as base64
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
        """The session is new, so its roster is inserted whole, each id once, from one JSON array (a nightly
        snapshot names every worker: no argument per id to encode; migration 010: the table is unlogged)."""
        await conn.execute(
            "INSERT INTO hr_import_roster (import_id, employee_id)"
            " SELECT $1, e FROM json_array_elements_text($2::json) AS e",
            import_id,
            _encode(sorted(set(employee_ids))).decode(),
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
        """A completed session takes no more rows, so its roster is no longer read: it goes."""
        await conn.execute("UPDATE hr_imports SET completed_at = $2 WHERE import_id = $1", import_id, at)
        await conn.execute("DELETE FROM hr_import_roster WHERE import_id = $1", import_id)

    async def in_roster(self, conn: asyncpg.Connection, import_id: UUID, employee_ids: list[str]) -> set[str]:
        rows = await conn.fetch(
            "SELECT employee_id FROM hr_import_roster WHERE import_id = $1"
            " AND employee_id = ANY(ARRAY(SELECT json_array_elements_text($2::json)))",
            import_id,
            _encode(employee_ids).decode(),  # one JSON text, not an array argument (hr_records._json_text)
        )
        return {r["employee_id"] for r in rows}

    async def seen_rows(self, conn: asyncpg.Connection, hashes: list[bytes]) -> dict[bytes, str]:
        rows = await conn.fetch(
            "SELECT r.content_hash, r.employee_id FROM hr_import_rows r JOIN hr_facts f USING (event_id)"
            " WHERE r.content_hash = ANY(ARRAY(SELECT decode(h, 'base64') FROM json_array_elements_text($1::json) h))",
            _encode(hashes).decode(),  # base64 in one JSON text, not a bytea[] argument (hr_records._json_text)
        )
        return {bytes(r["content_hash"]): r["employee_id"] for r in rows}

    async def keep_rows(self, conn: asyncpg.Connection, rows: list[tuple[bytes, str, str]]) -> None:
        if not rows:
            return
        await conn.execute(
            "INSERT INTO hr_import_rows (content_hash, employee_id, event_id)"
            " SELECT decode(r.content_hash, 'base64'), r.employee_id, r.event_id"
            " FROM json_to_recordset($1::json) AS r(content_hash text, employee_id text, event_id text)"
            " WHERE EXISTS (SELECT 1 FROM hr_facts f WHERE f.event_id = r.event_id) ON CONFLICT DO NOTHING",
            _encode([{"content_hash": h, "employee_id": e, "event_id": i} for h, e, i in rows]).decode(),
        )  # one JSON document, not three arrays (services/profiles/adapters/hr_records.py: _json_text)

    async def current_workers(self, conn: asyncpg.Connection) -> list[str]:
        """Employees linked to a participant whose last applied status is not terminated."""
        rows = await conn.fetch(
            "SELECT employee_id FROM hr_workers"
            " WHERE participant_id IS NOT NULL AND applied ->> 'status' <> 'terminated' ORDER BY employee_id"
        )
        return [r["employee_id"] for r in rows]
