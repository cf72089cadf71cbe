"""Use case: take one HR fact off the feed, keep it, and let the participant follow the worker.

Runs inside the inbox's transaction, so a redelivered fact is never seen twice.
A fact effective later than today (by the injectable clock) is kept and a
durable timer is set for its date; a rescission is kept even when it arrives
before the fact it withdraws.  Facts that can never make sense raise
``PermanentError`` and go to the dead-letter topic.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from services.profiles.adapters import hr_records
from services.profiles.application.follow_worker import Followed, follow_worker
from services.profiles.domain.worker import ImpossibleHrFact, check_fact, check_rescission
from shared.envelope import Envelope
from shared.events import Event
from shared.events.hr import HrEventRescinded
from shared.eventstore import EventStore
from shared.inbox import PermanentError


async def record_hr_fact(
    conn: asyncpg.Connection, store: EventStore, event: Event, envelope: Envelope, today: date
) -> Followed:
    """A fact about an erased worker is dropped: profiles keeps no personal data about them again."""
    if await hr_records.is_erased(conn, event.employee_id):
        return Followed(linked=False, before=None, after=None)
    try:
        check_fact(event, envelope.subject)
        if isinstance(event, HrEventRescinded):
            await _rescind(conn, event, envelope.id)
        else:
            await _keep(conn, event, str(envelope.id))
        followed = await follow_worker(
            conn, store, event.employee_id, today, correlation_id=envelope.correlationid, causation_id=envelope.id
        )
    except ImpossibleHrFact as exc:
        raise PermanentError(str(exc)) from exc
    if not isinstance(event, HrEventRescinded) and event.effective_date > today:
        await hr_records.add_timer(conn, event.employee_id, event.effective_date)
    return followed


async def record_local_hr_fact(
    conn: asyncpg.Connection,
    store: EventStore,
    event: Event,
    event_id: UUID,
    correlation_id: UUID,
    today: date,
    source: str = "/services/profiles",
) -> Followed:
    """An HR fact that reached profiles another way (bulk import, SCIM) goes the way of one off ``hr.events``."""
    envelope = Envelope.model_construct(
        id=event_id,
        source=source,
        type=event.type_name(),
        specversion="1.0",
        time=event.recorded_at,
        subject=event.employee_id,
        datacontenttype="application/json",
        correlationid=correlation_id,
        causationid=None,
        sequence=1,
        schemaversion=event.schema_version,
        data={},
    )
    return await record_hr_fact(conn, store, event, envelope, today)


async def _keep(conn: asyncpg.Connection, event: Event, event_id: str) -> None:
    rescinded = await hr_records.rescission_of(conn, event_id)
    if rescinded is not None:
        check_rescission_arrived_first(event, event_id, *rescinded)
    await hr_records.add_fact(conn, event_id, event)


async def _rescind(conn: asyncpg.Connection, rescission: HrEventRescinded, rescinded_by: UUID) -> None:
    fact = await hr_records.fact_owner(conn, rescission.rescinded_event_id)
    if fact is not None:
        check_rescission(rescission, *fact)
    await hr_records.add_rescission(conn, str(rescinded_by), rescission)


def check_rescission_arrived_first(event: Event, event_id: str, employee_id: str, rescinded_type: str) -> None:
    if employee_id != event.employee_id or rescinded_type != event.type_name():
        raise ImpossibleHrFact(
            f"event {event_id} was rescinded as a {rescinded_type} of employee {employee_id},"
            f" but is a {event.type_name()} of employee {event.employee_id}"
        )
