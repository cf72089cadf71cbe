"""Reminders are durable timers, set from the events that start a wait and cleared by those that end it;
when one fires, its notices are recorded like an event's (the timer and its due time are the cause)."""

from __future__ import annotations

from datetime import date, timedelta

from services.notifications.application.deps import Deps
from services.notifications.application.record_notices import record
from services.notifications.application.tell import parties_of
from services.notifications.domain import audience
from services.notifications.domain.causes import timer_cause_id
from services.notifications.domain.reminders import (
    cadence_reminder_at,
    cadence_timer_key,
    response_reminder_at,
    response_timer_key,
)
from shared.events.matching import MentorResponded, RequestExpired, RequestForwarded
from shared.events.relationships import AgreementSigned, MeetingLogged, RelationshipClosed
from shared.ports import Conn, Timer

RESPONSE_REMINDER = "response-reminder"
CADENCE_REMINDER = "cadence-reminder"


async def remind_before_deadline(deps: Deps, conn: Conn, event: RequestForwarded) -> None:
    due = response_reminder_at(event.respond_by, timedelta(days=deps.options.response_reminder_days))
    if due <= deps.clock.now():
        return
    await deps.timers.schedule(
        conn,
        response_timer_key(event.request_id, event.mentor_id),
        RESPONSE_REMINDER,
        event.request_id,
        due,
        {"mentor_id": event.mentor_id, "mentee_id": event.mentee_id, "respond_by": event.respond_by.isoformat()},
    )


async def mentor_answered(deps: Deps, conn: Conn, event: MentorResponded | RequestExpired) -> None:
    await deps.timers.cancel(conn, response_timer_key(event.request_id, event.mentor_id))


async def agreement_signed(deps: Deps, conn: Conn, event: AgreementSigned) -> None:
    await deps.relationships.set_cadence(conn, event.relationship_id, event.cadence_weeks_max)
    await _arm_cadence(deps, conn, event.relationship_id, event.signed_on, event.cadence_weeks_max)


async def meeting_logged(deps: Deps, conn: Conn, event: MeetingLogged) -> None:
    weeks = await deps.relationships.cadence_of(conn, event.relationship_id)
    if weeks is None:
        return
    await _arm_cadence(deps, conn, event.relationship_id, event.held_on, weeks)


async def relationship_closed(deps: Deps, conn: Conn, event: RelationshipClosed) -> None:
    await deps.timers.cancel(conn, cadence_timer_key(event.relationship_id))


async def _arm_cadence(deps: Deps, conn: Conn, relationship_id: str, met_on: date, weeks: int) -> None:
    due = cadence_reminder_at(met_on, weeks, timedelta(days=deps.options.cadence_reminder_days))
    await deps.timers.schedule(
        conn,
        cadence_timer_key(relationship_id),
        CADENCE_REMINDER,
        relationship_id,
        due,
        {"last_met_on": met_on.isoformat(), "cadence_weeks_max": weeks},
    )


async def response_reminder_due(deps: Deps, conn: Conn, timer: Timer) -> None:
    p = timer.payload
    notices = audience.response_reminder(timer.subject, p["mentor_id"], p["mentee_id"], p["respond_by"])
    await record(deps, conn, timer_cause_id(timer.key, timer.due_at), notices)


async def cadence_reminder_due(deps: Deps, conn: Conn, timer: Timer) -> None:
    parties = await parties_of(deps, conn, timer.subject)
    notices = audience.to_parties(
        "cadence_reminder",
        parties.mentor_id,
        parties.mentee_ids,
        {
            "relationship_id": timer.subject,
            "last_met_on": timer.payload["last_met_on"],
            "cadence_weeks_max": timer.payload["cadence_weeks_max"],
            "runs_out_on": (timer.due_at + timedelta(days=deps.options.cadence_reminder_days)).date().isoformat(),
        },
        parties.co_mentor_ids,
    )
    await record(deps, conn, timer_cause_id(timer.key, timer.due_at), notices)
