"""Use case: close a bulk HR import; a snapshot's leavers are terminated on its date (a dry run only lists them)."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

import asyncpg

from services.profiles.adapters import hr_imports
from services.profiles.application.import_hr_rows import IMPORT_SOURCE, ImportClosed, ImportNotFound
from services.profiles.application.record_hr_fact import record_local_hr_fact
from services.profiles.domain.hr_import import leaver_fact, leaver_fact_id
from shared.clock import Clock
from shared.eventstore import EventStore


async def complete_hr_import(pool: asyncpg.Pool, store: EventStore, clock: Clock, import_id: UUID) -> dict:
    """Returns the session with its final counts and the leavers."""
    async with pool.acquire() as conn, conn.transaction():
        session = await hr_imports.fetch(conn, import_id, lock=True)
        if session is None:
            raise ImportNotFound(f"no import {import_id}")
        if session["completed_at"] is not None:
            raise ImportClosed(f"import {import_id} is already completed")
        if session["leavers"]:
            counts = Counter({"leavers": len(session["leavers"])})
            if not session["dry_run"]:
                today = clock.now().date()
                for employee_id in session["leavers"]:
                    fact = leaver_fact(employee_id, session["as_of"], clock.now())
                    fact_id = leaver_fact_id(employee_id, session["as_of"])
                    await record_local_hr_fact(conn, store, fact, fact_id, import_id, today, IMPORT_SOURCE)
            await hr_imports.add_counts(conn, import_id, counts)
        await hr_imports.mark_completed(conn, import_id, clock.now())
        return await hr_imports.fetch(conn, import_id)
