"""Profiles' bulk-import tables (the ``HrImports`` port): import sessions and the roster a snapshot declares."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from datetime import date, datetime
from uuid import UUID

import asyncpg

from services.profiles.adapters.postgres import json_value, text_array, text_columns
from shared.hr_rows import ROW_HASH_BYTES

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
        """The session is new, so its roster is copied in (COPY, each id once): a nightly snapshot names every
        worker, and an INSERT of them cost twice the time (bench/hr_import.py); unlogged, without a foreign key
        (migration 010).  The session's id as text: asyncpg parses it once a row in C, where a ``UUID`` cost a call
        of its ``bytes`` property a row."""
        session = str(import_id)
        await conn.copy_records_to_table(
            "hr_import_roster",
            records=((session, employee_id) for employee_id in sorted(set(employee_ids))),
            columns=("import_id", "employee_id"),
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
        """The ids as one text of lines split by Postgres (``text_columns``): asyncpg's checks of a text[] argument's
        items were profiles' largest own cost in a nightly snapshot under cProfile (bench/hr_import.py --profile)."""
        joined, (ids,) = text_columns(employee_ids)
        rows = await conn.fetch(
            "SELECT employee_id FROM hr_import_roster"
            f" WHERE import_id = $1 AND employee_id = ANY({text_array(2, joined)})",
            import_id,
            ids,
        )
        return {r[0] for r in rows}

    async def seen_rows(self, conn: asyncpg.Connection, hashes: list[bytes]) -> dict[bytes, str]:
        """The hashes kept, with their employees: a kept row's fact is kept (``keep_rows`` keeps only rows whose
        fact is there, and ``PostgresHrRecords.erase_worker``, the one place a fact is deleted, deletes the
        employee's rows with their facts, in one transaction), so hr_import_rows is read alone.  Joined to
        hr_facts to see the fact again it cost three times the Postgres CPU, 2 µs a row of a nightly snapshot
        (bench/hr_import.py)."""
        hashes_sql, hashes_arg = _hash_array(hashes)
        rows = await conn.fetch(
            f"SELECT content_hash, employee_id FROM hr_import_rows WHERE content_hash = ANY({hashes_sql})", hashes_arg
        )
        return {r[0]: r[1] for r in rows}  # bytea comes back as bytes

    async def keep_rows(
        self, conn: asyncpg.Connection, rows: list[tuple[bytes, str, str]], written: Collection[str] = ()
    ) -> None:
        """``written``: event ids of facts this transaction wrote itself (a first import's new workers), kept
        without looking them up again; the others' facts are looked up (the row is kept only with its fact)."""
        if not rows:
            return
        if written:  # the written ones first: ``$4`` of them skip the look-up (the same rows kept, in any order)
            rows = [r for r in rows if r[2] in written] + [r for r in rows if r[2] not in written]
            known = sum(1 for r in rows if r[2] in written)
        else:
            known = 0
        joined, columns = text_columns([e for _, e, _ in rows], [i for _, _, i in rows])
        hashes_sql, hashes_arg = _hash_array([h for h, _, _ in rows])
        # The kept facts are looked up by the batch's event ids (``= ANY``, an index search each), not joined:
        # the planner hashed all of hr_facts for every batch of a first import, unanalysed as it grows (after
        # 20,000 rows, 18-45 ms of the backend a batch; EXPLAIN ANALYZE, bench/hr_import.py).  Those of facts
        # the transaction wrote are not looked up: a first import's 1,000 index searches a batch.
        await conn.execute(
            "WITH r AS MATERIALIZED ("
            f"SELECT * FROM unnest({hashes_sql}, {text_array(2, joined)}, {text_array(3, joined)})"
            " WITH ORDINALITY AS r(content_hash, employee_id, event_id, n)),"
            " batch AS (SELECT array_agg(event_id) FILTER (WHERE n > $4) AS events FROM r)"
            " INSERT INTO hr_import_rows (content_hash, employee_id, event_id)"
            " SELECT r.content_hash, r.employee_id, r.event_id FROM r"
            " WHERE r.n <= $4"
            " OR r.event_id IN (SELECT f.event_id FROM hr_facts f, batch WHERE f.event_id = ANY(batch.events))"
            " ON CONFLICT DO NOTHING",
            hashes_arg,
            *columns,
            known,
        )

    async def current_workers(self, conn: asyncpg.Connection) -> list[str]:
        """Employees linked to a participant whose last applied status is not terminated, in order.  One array,
        not a row each: a nightly snapshot's 110,000 records were 47 -> 10 ms of profiles' CPU as it opens
        (bench/hr_import.py)."""
        return await conn.fetchval(
            "SELECT coalesce(array_agg(employee_id ORDER BY employee_id), '{}') FROM hr_workers"
            " WHERE participant_id IS NOT NULL AND applied ->> 'status' <> 'terminated'"
        )


def _hash_array(hashes: list[bytes]) -> tuple[str, bytes | list[bytes]]:
    """Parameter ``$1`` as the ``bytea[]`` of ``hashes``, in order, and its argument: when each is a row hash
    (``ROW_HASH_BYTES``), one ``bytea`` that Postgres cuts (as ids in ``in_roster``: asyncpg checks each item of an
    array argument against the collection ABCs in Python); else the array itself."""
    if all(len(h) == ROW_HASH_BYTES for h in hashes):
        return (
            f"ARRAY(SELECT substring($1::bytea FROM n * {ROW_HASH_BYTES} + 1 FOR {ROW_HASH_BYTES})"
            f" FROM generate_series(0, length($1::bytea) / {ROW_HASH_BYTES} - 1) AS n ORDER BY n)",
            b"".join(hashes),
        )
    return "$1::bytea[]", hashes
