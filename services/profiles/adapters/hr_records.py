"""Profiles' own HR tables (the ``HrRecords`` port): facts, rescissions, the employee -> participant mapping."""

from __future__ import annotations

import asyncpg
import msgspec

from services.profiles.adapters.postgres import json_value, text_array, text_columns
from services.profiles.domain.participant import EmployeeTaken
from services.profiles.domain.worker import HrFact, WorkerView
from shared.events import Event, decode
from shared.events.hr import HrEventRescinded


def _json_text(value: object) -> str:
    """jsonb's input text, with msgspec rather than json (a few times faster; jsonb keeps no spacing)."""
    return _encode(value).decode()


_encode = msgspec.json.Encoder().encode


class PostgresHrRecords:
    async def add_fact(self, conn: asyncpg.Connection, event_id: str, event: Event) -> None:
        await conn.execute(
            "INSERT INTO hr_facts"
            " (event_id, employee_id, event_type, schema_version, effective_date, recorded_at, data)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb) ON CONFLICT (event_id) DO NOTHING",
            event_id,
            event.employee_id,
            event.type_name(),
            event.schema_version,
            event.effective_date,
            event.recorded_at,
            event.model_dump_json(),
        )

    async def known_facts(self, conn: asyncpg.Connection, event_ids: list[str]) -> set[str]:
        joined, (ids,) = text_columns(event_ids)
        rows = await conn.fetch(f"SELECT event_id FROM hr_facts WHERE event_id = ANY({text_array(1, joined)})", ids)
        return {r["event_id"] for r in rows}

    async def new_workers(self, conn: asyncpg.Connection, facts: list[tuple[str, str]]) -> set[str]:
        """Of ``(employee_id, fact event id)``, the employees profiles holds nothing about (no worker row, so no
        fact, link or erasure) whose fact no rescission names."""
        joined, columns = text_columns([employee_id for employee_id, _ in facts], [event_id for _, event_id in facts])
        rows = await conn.fetch(  # looked up by the batch's keys, not joined: as ``ReadModel.unclaimed``
            "WITH f AS MATERIALIZED ("
            f"SELECT * FROM unnest({text_array(1, joined)}, {text_array(2, joined)}) AS f(employee_id, event_id)),"
            " batch AS (SELECT array_agg(employee_id) AS ids, array_agg(event_id) AS events FROM f)"
            " SELECT f.employee_id FROM f WHERE f.employee_id NOT IN"
            " (SELECT w.employee_id FROM hr_workers w, batch WHERE w.employee_id = ANY(batch.ids))"
            " AND f.event_id NOT IN (SELECT r.rescinded_event_id FROM hr_rescissions r, batch"
            " WHERE r.rescinded_event_id = ANY(batch.events))",
            *columns,
        )
        return {r["employee_id"] for r in rows}

    async def add_new_workers(
        self, conn: asyncpg.Connection, workers: list[tuple[str, Event, str, WorkerView]]
    ) -> bool:
        """Keep each new worker's first fact and link them, ``(fact event id, fact, participant id, view applied)``
        each; False when another writer holds one of them by now (then the caller undoes what this wrote)."""
        ordered = sorted(workers, key=lambda w: w[1].employee_id)  # one lock order for concurrent writers
        joined, columns = text_columns(
            [fact.employee_id for _, fact, _, _ in ordered],
            [participant_id for _, _, participant_id, _ in ordered],
            [_json_text(view.to_json()) for _, _, _, view in ordered],
        )
        linked = await conn.fetch(
            "INSERT INTO hr_workers (employee_id, participant_id, applied) SELECT w.employee_id, w.participant_id,"
            f" w.applied::jsonb FROM unnest({', '.join(text_array(n, joined) for n in (1, 2, 3))})"
            " AS w(employee_id, participant_id, applied) ORDER BY 1 ON CONFLICT DO NOTHING RETURNING employee_id",
            *columns,
        )
        if len(linked) != len(workers):
            return False
        # Every column as a text of lines (``text_columns``), the number, date and time ones cast by Postgres from
        # their text (exact: ISO dates, times to the microsecond with their offset): asyncpg checks each item of
        # an array argument in Python (0.5 µs a row each of the three, timeit).
        joined, columns = text_columns(
            [event_id for event_id, _, _, _ in workers],
            [fact.employee_id for _, fact, _, _ in workers],
            [fact.type_name() for _, fact, _, _ in workers],
            [fact.model_dump_json() for _, fact, _, _ in workers],
            [str(fact.schema_version) for _, fact, _, _ in workers],
            [fact.effective_date.isoformat() for _, fact, _, _ in workers],
            [fact.recorded_at.isoformat() for _, fact, _, _ in workers],
        )
        event_ids, employee_ids, event_types, data, versions, dates, times = (
            text_array(n, joined) for n in range(1, 8)
        )
        await conn.execute(
            "INSERT INTO hr_facts (event_id, employee_id, event_type, schema_version, effective_date, recorded_at,"
            " data) SELECT f.event_id, f.employee_id, f.event_type, f.schema_version, f.effective_date, f.recorded_at,"
            f" f.data::jsonb FROM unnest({event_ids}, {employee_ids}, {event_types}, {versions}::int[],"
            f" {dates}::date[], {times}::timestamptz[], {data}) AS f(event_id, employee_id, event_type,"
            " schema_version, effective_date, recorded_at, data) ON CONFLICT (event_id) DO NOTHING",
            *columns,
        )
        return True

    async def fact_owner(self, conn: asyncpg.Connection, event_id: str) -> tuple[str, str] | None:
        row = await conn.fetchrow("SELECT employee_id, event_type FROM hr_facts WHERE event_id = $1", event_id)
        return (row["employee_id"], row["event_type"]) if row else None

    async def rescission_of(self, conn: asyncpg.Connection, event_id: str) -> tuple[str, str] | None:
        row = await conn.fetchrow(
            "SELECT employee_id, rescinded_type FROM hr_rescissions WHERE rescinded_event_id = $1", event_id
        )
        return (row["employee_id"], row["rescinded_type"]) if row else None

    async def add_rescission(self, conn: asyncpg.Connection, rescinded_by: str, rescission: HrEventRescinded) -> None:
        await conn.execute(
            "INSERT INTO hr_rescissions (rescinded_event_id, employee_id, rescinded_type, rescinded_by)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            rescission.rescinded_event_id,
            rescission.employee_id,
            rescission.rescinded_type,
            rescinded_by,
        )

    async def standing_facts(self, conn: asyncpg.Connection, employee_id: str) -> list[HrFact]:
        """Every fact about the employee that has not been rescinded."""
        rows = await conn.fetch(
            "SELECT f.arrival, f.event_id, f.event_type, f.schema_version, f.data FROM hr_facts f"
            " WHERE f.employee_id = $1"
            " AND NOT EXISTS (SELECT 1 FROM hr_rescissions r WHERE r.rescinded_event_id = f.event_id)",
            employee_id,
        )
        return [
            HrFact(r["event_id"], decode(r["event_type"], json_value(r["data"]), r["schema_version"]), r["arrival"])
            for r in rows
        ]

    async def lock_worker(self, conn: asyncpg.Connection, employee_id: str) -> tuple[str | None, WorkerView | None]:
        """The worker's row, created if missing and locked for the rest of the transaction."""
        await conn.execute("INSERT INTO hr_workers (employee_id) VALUES ($1) ON CONFLICT DO NOTHING", employee_id)
        row = await conn.fetchrow(
            "SELECT participant_id, applied FROM hr_workers WHERE employee_id = $1 FOR UPDATE", employee_id
        )
        applied = WorkerView.from_json(json_value(row["applied"])) if row["applied"] is not None else None
        return row["participant_id"], applied

    async def save_worker(
        self, conn: asyncpg.Connection, employee_id: str, participant_id: str, applied: WorkerView
    ) -> None:
        """One worker per participant is the table's unique key: a race two workers both won is ``EmployeeTaken``."""
        try:
            await conn.execute(
                "UPDATE hr_workers SET participant_id = $2, applied = $3, updated_at = now() WHERE employee_id = $1",
                employee_id,
                participant_id,
                applied.to_json(),
            )
        except asyncpg.UniqueViolationError as exc:
            raise EmployeeTaken(f"participant {participant_id} is already linked to another employee") from exc

    async def erase_worker(self, conn: asyncpg.Connection, participant_id: str) -> None:
        """Drop every HR fact about the participant's worker; facts that arrive later are not kept."""
        employee_id = await conn.fetchval(
            "SELECT employee_id FROM hr_workers WHERE participant_id = $1", participant_id
        )
        if employee_id is None:
            return
        await conn.execute("DELETE FROM hr_facts WHERE employee_id = $1", employee_id)
        await conn.execute("DELETE FROM hr_rescissions WHERE employee_id = $1", employee_id)
        await conn.execute("DELETE FROM hr_import_rows WHERE employee_id = $1", employee_id)
        await conn.execute("DELETE FROM scim_users WHERE employee_id = $1", employee_id)
        await conn.execute(
            "UPDATE hr_workers SET applied = NULL, erased_at = now() WHERE employee_id = $1", employee_id
        )

    async def is_erased(self, conn: asyncpg.Connection, employee_id: str) -> bool:
        return (
            await conn.fetchval("SELECT erased_at IS NOT NULL FROM hr_workers WHERE employee_id = $1", employee_id)
            or False
        )
