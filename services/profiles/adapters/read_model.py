"""The participants table: the read model, rewritten from the aggregate in the transaction that appends.

``ReadModel.rewrite_row`` is the participant repository's commit hook; as ``ParticipantIndex`` it answers
who holds an email or an employee id.  The routes read the table through ``queries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from services.profiles.adapters.postgres import text_array, text_columns
from services.profiles.domain.participant import EmailTaken, EmployeeTaken, Participant
from shared.events import Event

_COLUMN_TYPES = (
    ("participant_id", "text"), ("email", "text"), ("name", "text"), ("roles", "text[]"), ("capacity", "integer"),
    ("profile", "jsonb"), ("active", "boolean"), ("version", "integer"), ("employee_id", "text"),
    ("demographics", "jsonb"), ("availability", "jsonb"), ("training_status", "text"), ("training", "jsonb"),
    ("priority_group", "text"), ("inactive_reason", "text"),
)  # fmt: skip
"""The row's columns in ``_row``'s order, with their types; every statement below is written from them."""
_COLUMNS = tuple(name for name, _ in _COLUMN_TYPES)
_INTO = f"INSERT INTO participants ({', '.join(_COLUMNS)}, updated_at)\n"
_ON_CONFLICT = (
    "\nON CONFLICT (participant_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _COLUMNS[1:])
    + ", updated_at = now()"
)
_UPSERT = _INTO + f"VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))}, now())" + _ON_CONFLICT
# ``_UPSERT`` for many rows in one statement, their values one JSON array of objects (``_row``'s, by
# ``_COLUMNS``): a first HR import's 1,000 new participants a batch were 1,000 statements, each row's
# arguments encoded one by one (bench/hr_import.py --profile: Postgres' largest statement, and a tenth of
# profiles' CPU in asyncpg's encoding of them).
_UPSERT_ALL = (
    _INTO
    + "SELECT r.*, now() FROM json_to_recordset($1::json) AS r("
    + ", ".join(f"{name} {kind}" for name, kind in _COLUMN_TYPES)
    + ")"
    + _ON_CONFLICT
)
_encode = msgspec.json.Encoder().encode


class ReadModel:
    async def rewrite_row(
        self, conn: asyncpg.Connection, participant: Participant, events: Sequence[Event], now: datetime
    ) -> None:
        """The repository's commit hook: the row follows the participant (an erased one leaves a tombstone).

        The table's unique email and employee id are the last word on a race two registrations both won.
        """
        try:
            await _save(conn, participant)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "participants_employee_id_key":
                raise EmployeeTaken(f"employee {participant.fields.get('employee_id')} is already registered") from exc
            raise EmailTaken(f"email {participant.fields.get('email')} is already registered") from exc

    async def rewrite_rows(
        self, conn: asyncpg.Connection, committed: Sequence[tuple[Participant, Sequence[Event]]], now: datetime
    ) -> None:
        """``rewrite_row`` for many participants committed together (the repository's batch hook): one statement."""
        erased = [participant for participant, _ in committed if participant.erased]
        for participant in erased:
            await _save(conn, participant)
        rows = [
            dict(zip(_COLUMNS, _row(participant), strict=True))
            for participant, _ in committed
            if not participant.erased
        ]
        if not rows:
            return
        try:
            await conn.execute(_UPSERT_ALL, _encode(rows).decode())
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "participants_employee_id_key":
                raise EmployeeTaken("an employee id of the batch is already registered") from exc
            raise EmailTaken("an email of the batch is already registered") from exc

    async def unclaimed(self, conn: asyncpg.Connection, people: list[tuple[str, str]]) -> set[str]:
        """Of ``(employee_id, email)``, the employee ids that no participant holds, as its employee id, its own
        id or (case-insensitively) its email, and that name no erased participant.

        The held ones are looked up by the batch's ids and emails (``= ANY``, an index search for each), not
        joined: with a first import's tables growing and not analysed yet, the planner joined by hashing the
        whole participants table, or probed each row under four anti-joins (after a 20,000-row import, 1,000
        people took 7-13 ms of the backend this way, 1.2-4.5 ms so; EXPLAIN ANALYZE, bench/hr_import.py)."""
        joined, columns = text_columns([employee_id for employee_id, _ in people], [email for _, email in people])
        rows = await conn.fetch(
            "WITH w AS MATERIALIZED ("
            f"SELECT * FROM unnest({text_array(1, joined)}, {text_array(2, joined)}) AS w(employee_id, email)),"
            " batch AS (SELECT array_agg(employee_id) AS ids, array_agg(lower(email)) AS emails FROM w),"
            " held AS (SELECT p.employee_id AS id FROM participants p, batch WHERE p.employee_id = ANY(batch.ids)"
            " UNION ALL SELECT p.participant_id FROM participants p, batch WHERE p.participant_id = ANY(batch.ids)"
            " UNION ALL SELECT e.participant_id FROM erased_participants e, batch"
            " WHERE e.participant_id = ANY(batch.ids)),"
            " taken AS (SELECT lower(p.email) AS email FROM participants p, batch"
            " WHERE lower(p.email) = ANY(batch.emails))"
            " SELECT w.employee_id FROM w WHERE w.employee_id NOT IN (SELECT id FROM held)"
            " AND lower(w.email) NOT IN (SELECT email FROM taken)",
            *columns,
        )
        return {r["employee_id"] for r in rows}

    async def owner_of_email(self, conn: asyncpg.Connection, email: str) -> str | None:
        return await conn.fetchval("SELECT participant_id FROM participants WHERE lower(email) = lower($1)", email)

    async def owner_of_employee(self, conn: asyncpg.Connection, employee_id: str) -> str | None:
        return await conn.fetchval("SELECT participant_id FROM participants WHERE employee_id = $1", employee_id)

    async def employee_of(self, conn: asyncpg.Connection, participant_id: str) -> str | None:
        return await conn.fetchval("SELECT employee_id FROM participants WHERE participant_id = $1", participant_id)


async def _save(conn: asyncpg.Connection, participant: Participant) -> None:
    p = participant
    if p.erased:
        await conn.execute("DELETE FROM participants WHERE participant_id = $1", p.participant_id)
        await conn.execute(
            "INSERT INTO erased_participants (participant_id, erased_at) VALUES ($1, now()) ON CONFLICT DO NOTHING",
            p.participant_id,
        )
        return
    await conn.execute(_UPSERT, *_row(p))


def _row(p: Participant) -> tuple:
    sections = p.sections()
    demographics = sections.get("demographics", {})
    return (
        p.participant_id,
        p.fields["email"],
        p.fields["name"],
        sorted(p.roles),
        p.capacity,
        sections.get("profile", {}),
        p.active,
        p.version,
        p.fields.get("employee_id"),
        demographics if demographics.get("consented") else None,
        sections.get("availability") or None,
        p.training_status,
        {kind: on.isoformat() for kind, on in sorted(p.training.items())},
        p.fields.get("priority_group"),
        p.inactive_reason,
    )
