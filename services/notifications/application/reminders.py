"""Reminders are durable timers, set from the events that start a wait and cleared by those that end it."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

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
from shared import timers
from shared.events.matching import MentorResponded, RequestExpired, RequestForwarded
from shared.events.relationships import (
    AgreementSigned,
    MeetingLogged,
    RelationshipClosed,
)
from shared.timers import Timer

RESPONSE_REMINDER = "response-reminder"
CADENCE_REMINDER = "cadence-reminder"


async def remind_before_deadline(conn: asyncpg.Connection, deps: Deps, event: RequestForwarded) -> None:
    due = response_reminder_at(event.respond_by, timedelta(days=deps.options.response_reminder_days))
    if due <= deps.clock.now():
        return
    await timers.schedule(
        conn,
        response_timer_key(event.request_id, event.mentor_id),
        RESPONSE_REMINDER,
        event.request_id,
        due,
        {"mentor_id": event.mentor_id, "mentee_id": event.mentee_id, "respond_by": event.respond_by.isoformat()},
    )


async def mentor_answered(conn: asyncpg.Connection, event: MentorResponded | RequestExpired) -> None:
    await timers.cancel(conn, response_timer_key(event.request_id, event.mentor_id))


async def agreement_signed(conn: asyncpg.Connection, deps: Deps, event: AgreementSigned) -> None:
    await conn.execute(
        "UPDATE relationships SET cadence_weeks_max = $2 WHERE relationship_id = $1",
        event.relationship_id,
        event.cadence_weeks_max,
    )
    await _arm_cadence(conn, deps, event.relationship_id, event.signed_on, event.cadence_weeks_max)


async def meeting_logged(conn: asyncpg.Connection, deps: Deps, event: MeetingLogged) -> None:
    weeks = await conn.fetchval(
        "SELECT cadence_weeks_max FROM relationships WHERE relationship_id = $1", event.relationship_id
    )
    if weeks is None:
        return
    await _arm_cadence(conn, deps, event.relationship_id, event.held_on, weeks)


async def relationship_closed(conn: asyncpg.Connection, event: RelationshipClosed) -> None:
    await timers.cancel(conn, cadence_timer_key(event.relationship_id))


async def _arm_cadence(conn: asyncpg.Connection, deps: Deps, relationship_id: str, met_on, weeks: int) -> None:
    due = cadence_reminder_at(met_on, weeks, timedelta(days=deps.options.cadence_reminder_days))
    await timers.schedule(
        conn,
        cadence_timer_key(relationship_id),
        CADENCE_REMINDER,
        relationship_id,
        due,
        {"last_met_on": met_on.isoformat(), "cadence_weeks_max": weeks},
    )


async def on_response_reminder(conn: asyncpg.Connection, deps: Deps, timer: Timer) -> None:
    p = timer.payload
    notices = audience.response_reminder(timer.subject, p["mentor_id"], p["mentee_id"], p["respond_by"])
    await record(conn, deps, timer_cause_id(timer.key, timer.due_at), notices)


async def on_cadence_reminder(conn: asyncpg.Connection, deps: Deps, timer: Timer) -> None:
    mentor_id, mentee_ids = await parties_of(conn, timer.subject)
    notices = audience.to_parties(
        "cadence_reminder",
        mentor_id,
        mentee_ids,
        {
            "relationship_id": timer.subject,
            "last_met_on": timer.payload["last_met_on"],
            "cadence_weeks_max": timer.payload["cadence_weeks_max"],
            "runs_out_on": (timer.due_at + timedelta(days=deps.options.cadence_reminder_days)).date().isoformat(),
        },
    )
    await record(conn, deps, timer_cause_id(timer.key, timer.due_at), notices)
