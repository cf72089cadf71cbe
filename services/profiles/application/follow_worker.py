"""Bring a participant in line with their worker as HR sees them today.

The worker is re-derived from every standing HR fact (see ``domain.worker``)
and compared with the view last applied: the HR fields that changed become a
``ProfileUpdated`` (source ``hr_feed``), a changed employment status becomes
``ParticipantDeactivated`` / ``ParticipantReactivated``.  HR changes only what
HR changed, so a participant's own edit of, say, their location stands until
HR changes the location again.

The first time a worker's full record is effective, the worker becomes a
participant: the one already linked to the employee id (a registration that
named it), else the one with the worker's email, else a new participant whose
id is the employee id.  On linking, HR fills only the fields the person left
empty.  A new participant holds a person record only; being a mentor or a
mentee still takes a registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg
from pydantic import JsonValue

from services.profiles.adapters import hr_records, read_model
from services.profiles.domain.participant import Participant
from services.profiles.domain.worker import ImpossibleHrFact, WorkerView, derive, effective_from
from shared.eventstore import EventStore


@dataclass(frozen=True)
class Followed:
    """The worker view applied to the participant before and after; ``linked``: a participant existed before."""

    linked: bool
    before: WorkerView | None
    after: WorkerView | None


async def follow_worker(
    conn: asyncpg.Connection,
    store: EventStore,
    employee_id: str,
    today: date,
    *,
    correlation_id: UUID | None = None,
    causation_id: UUID | None = None,
) -> Followed:
    """Runs inside the caller's transaction (the inbox's, a timer's or an import's)."""
    participant_id, applied = await hr_records.lock_worker(conn, employee_id)
    followed = Followed(participant_id is not None, applied, applied)
    view = derive(await hr_records.standing_facts(conn, employee_id), today)
    if view is None or view == applied:
        return followed
    if participant_id is None:
        participant_id, applied = await _link(conn, view), None
    participants = read_model.repository(store)
    participant = await participants.load(conn, participant_id)
    events = participant.edit(_hr_changes(applied, view, participant), source="hr_feed")
    if applied is None or applied.status != view.status:
        events += participant.follow_employment(view.status, effective_from(applied, view))
    await participants.commit(conn, participant, events, correlation_id=correlation_id, causation_id=causation_id)
    await hr_records.save_worker(conn, employee_id, participant_id, view)
    return Followed(followed.linked, applied, view)


def _hr_changes(applied: WorkerView | None, view: WorkerView, participant: Participant) -> dict[str, JsonValue]:
    """On linking, HR fills the gaps in the person's record; afterwards it changes what HR changed."""
    if applied is None:
        return {
            path: value for path, value in view.participant_fields().items() if participant.fields.get(path) is None
        }
    before = applied.participant_fields()
    return {path: value for path, value in view.participant_fields().items() if before[path] != value}


async def _link(conn: asyncpg.Connection, view: WorkerView) -> str:
    by_employee = await read_model.owner_of_employee(conn, view.employee_id)
    if by_employee is not None:
        return by_employee
    by_email = await read_model.owner_of_email(conn, view.email)
    if by_email is not None:
        row = await read_model.fetch(conn, by_email)
        if row["employee_id"] not in (None, view.employee_id):
            raise ImpossibleHrFact(f"work email {view.email} belongs to employee {row['employee_id']}")
        return by_email
    existing = await read_model.fetch(conn, view.employee_id)
    if existing is not None and existing["employee_id"] not in (None, view.employee_id):
        raise ImpossibleHrFact(f"participant {view.employee_id} is employee {existing['employee_id']}")
    return view.employee_id
