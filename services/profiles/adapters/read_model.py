"""The participants table: the read model, rewritten from the aggregate in the transaction that appends.

``ReadModel.rewrite_row`` is the participant repository's commit hook; as ``ParticipantIndex`` it answers
who holds an email or an employee id.  The routes read the table through ``queries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.profiles.domain.participant import EmailTaken, EmployeeTaken, Participant
from shared.events import Event

_UPSERT = """
INSERT INTO participants (participant_id, email, name, roles, capacity, profile, active, version, employee_id,
                          demographics, availability, training_status, training, priority_group, inactive_reason,
                          updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now())
ON CONFLICT (participant_id) DO UPDATE SET
    email = EXCLUDED.email, name = EXCLUDED.name, roles = EXCLUDED.roles, capacity = EXCLUDED.capacity,
    profile = EXCLUDED.profile, active = EXCLUDED.active, version = EXCLUDED.version,
    employee_id = EXCLUDED.employee_id, demographics = EXCLUDED.demographics,
    availability = EXCLUDED.availability, training_status = EXCLUDED.training_status,
    training = EXCLUDED.training, priority_group = EXCLUDED.priority_group,
    inactive_reason = EXCLUDED.inactive_reason, updated_at = now()
"""


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
    demographics = p.section("demographics")
    await conn.execute(
        _UPSERT,
        p.participant_id,
        p.fields["email"],
        p.fields["name"],
        sorted(p.roles),
        p.capacity,
        p.section("profile"),
        p.active,
        p.version,
        p.fields.get("employee_id"),
        demographics if demographics.get("consented") else None,
        p.section("availability") or None,
        p.training_status,
        {kind: on.isoformat() for kind, on in sorted(p.training.items())},
        p.fields.get("priority_group"),
        p.inactive_reason,
    )
