"""Use case: apply a batch of import rows as HR facts, exactly as if they came off the HR feed.

Each row runs in its own savepoint: a row with errors is reported (row number,
field, reason) and not applied; the others are.  A dry run does the same work
and rolls it back, so it reports what would change.  Within one dry-run batch
later rows see earlier ones; across batches they do not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
from pydantic import JsonValue

from services.profiles.adapters import hr_imports, hr_records
from services.profiles.application.record_hr_fact import record_local_hr_fact
from services.profiles.domain.hr_import import (
    ImportRow,
    Outcome,
    RowError,
    changes,
    fact_id,
    outcome,
    parse_row,
    row_fact,
)
from shared.clock import Clock
from shared.eventstore import EventStore
from shared.inbox import PermanentError

IMPORT_SOURCE = "/services/profiles/hr-import"


class ImportNotFound(LookupError):
    pass


class ImportClosed(Exception):
    pass


class _DryRun(Exception):
    """Leaves the batch's transaction by rolling it back."""


@dataclass
class RowResult:
    row: int
    employee_id: str | None
    outcome: Outcome
    changes: dict[str, dict[str, JsonValue]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


async def import_hr_rows(
    pool: asyncpg.Pool, store: EventStore, clock: Clock, import_id: UUID, rows: list[tuple[int, dict[str, JsonValue]]]
) -> tuple[list[RowResult], Counter[str]]:
    async with pool.acquire() as conn:
        session = await hr_imports.fetch(conn, import_id)
        if session is None:
            raise ImportNotFound(f"no import {import_id}")
        if session["completed_at"] is not None:
            raise ImportClosed(f"import {import_id} is completed; start a new one")
        try:
            async with conn.transaction():
                results = await _apply(conn, store, clock, session, rows)
                counts = Counter(r.outcome for r in results)
                if session["dry_run"]:
                    raise _DryRun
                await hr_imports.add_counts(conn, import_id, counts)
        except _DryRun:
            async with conn.transaction():
                await hr_imports.add_counts(conn, import_id, counts)
    return results, counts


async def _apply(
    conn: asyncpg.Connection, store: EventStore, clock: Clock, session: dict, rows: list[tuple[int, dict]]
) -> list[RowResult]:
    """A row whose fact is already kept is the same fact again: unchanged, without deriving anything."""
    parsed = [(number, fields, parse_row(fields)) for number, fields in rows]
    valid = [row for _, _, row in parsed if isinstance(row, ImportRow)]
    known = await hr_records.known_facts(conn, [str(fact_id(row)) for row in valid])
    named = None
    if session["mode"] == "snapshot":
        named = await hr_imports.in_roster(conn, session["import_id"], [row.employee_id for row in valid])
    results = []
    for number, fields, row in parsed:
        if not isinstance(row, ImportRow):
            employee_id = fields.get("employee_id")
            employee_id = employee_id if isinstance(employee_id, str) else None
            results.append(RowResult(number, employee_id, "error", errors=row))
        elif named is not None and row.employee_id not in named:
            error = RowError("employee_id", "is not in the snapshot's roster of employees")
            results.append(RowResult(number, row.employee_id, "error", errors=[error]))
        elif str(fact_id(row)) in known:
            results.append(RowResult(number, row.employee_id, "unchanged"))
        else:
            results.append(await _apply_row(conn, store, clock, session["import_id"], number, row))
    return results


async def _apply_row(
    conn: asyncpg.Connection, store: EventStore, clock: Clock, import_id: UUID, number: int, row: ImportRow
) -> RowResult:
    today = clock.now().date()
    try:
        async with conn.transaction():
            followed = await record_local_hr_fact(
                conn, store, row_fact(row, clock.now()), fact_id(row), import_id, today, IMPORT_SOURCE
            )
    except PermanentError as exc:
        field_name = "work_email" if "email" in str(exc) else "employee_id"
        return RowResult(number, row.employee_id, "error", errors=[RowError(field_name, str(exc))])
    except asyncpg.UniqueViolationError:  # a concurrent batch linked this email or employee id first
        error = RowError("work_email", f"{row.work_email} or {row.employee_id} belongs to another participant")
        return RowResult(number, row.employee_id, "error", errors=[error])
    kind = outcome(followed.linked, followed.before, followed.after, scheduled=row.effective_date > today)
    return RowResult(number, row.employee_id, kind, changes(followed.before, followed.after))
