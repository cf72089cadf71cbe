"""Scheduled meetings: each change mailed to every party with its invitation; the reminder before the meeting and
the "did it happen?" after its end on durable timers (set by the acceptance, cleared by a reschedule, a
cancellation or the meeting confirmed as held)."""

from __future__ import annotations

from datetime import timedelta

from services.notifications.application.deps import Deps
from services.notifications.application.record_notices import record
from services.notifications.application.tell import parties_of
from services.notifications.domain import meetings
from services.notifications.domain.audience import Notice, to_parties
from services.notifications.domain.causes import timer_cause_id
from shared.events.relationships import (
    MeetingAccepted,
    MeetingCancelled,
    MeetingHeld,
    MeetingNudgeDue,
    MeetingProposed,
    MeetingRescheduled,
    ReengagementNudged,
    RelationshipInactive,
)
from shared.ports import Conn, Timer

MEETING_REMINDER = "meeting-reminder"
MEETING_HELD_CHECK = "meeting-held-check"


async def _parties(deps: Deps, conn: Conn, relationship_id: str) -> list[str]:
    parties = await parties_of(deps, conn, relationship_id)
    return [p for p in dict.fromkeys((parties.mentor_id, *parties.co_mentor_ids, *parties.mentee_ids)) if p]


def _url(deps: Deps, relationship_id: str, meeting_id: str) -> str:
    return meetings.meeting_url(deps.options.portal_url, relationship_id, meeting_id)


async def proposed(deps: Deps, conn: Conn, event: MeetingProposed | MeetingRescheduled, cause_id: str) -> None:
    parties = await _parties(deps, conn, event.relationship_id)
    await record(
        deps, conn, cause_id, meetings.proposed(event, parties, _url(deps, event.relationship_id, event.meeting_id))
    )


async def accepted(deps: Deps, conn: Conn, event: MeetingAccepted, cause_id: str) -> None:
    parties = await _parties(deps, conn, event.relationship_id)
    url = _url(deps, event.relationship_id, event.meeting_id)
    notices = meetings.accepted(event, parties, deps.options.calendar_domain, url, deps.clock.now())
    await record(deps, conn, cause_id, notices)
    payload = {
        "relationship_id": event.relationship_id,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "url": url,
    }
    remind_at = event.starts_at - timedelta(hours=deps.options.meeting_reminder_hours)
    if remind_at > deps.clock.now():
        await deps.timers.schedule(
            conn, meetings.reminder_key(event.meeting_id), MEETING_REMINDER, event.meeting_id, remind_at, payload
        )
    await deps.timers.schedule(
        conn, meetings.held_check_key(event.meeting_id), MEETING_HELD_CHECK, event.meeting_id, event.ends_at, payload
    )


async def rescheduled(deps: Deps, conn: Conn, event: MeetingRescheduled, cause_id: str) -> None:
    await _clear(deps, conn, event.meeting_id)
    parties = await _parties(deps, conn, event.relationship_id)
    url = _url(deps, event.relationship_id, event.meeting_id)
    notices = meetings.rescheduled(event, parties, deps.options.calendar_domain, url, deps.clock.now())
    await record(deps, conn, cause_id, notices)


async def cancelled(deps: Deps, conn: Conn, event: MeetingCancelled, cause_id: str) -> None:
    await _clear(deps, conn, event.meeting_id)
    parties = await _parties(deps, conn, event.relationship_id)
    url = _url(deps, event.relationship_id, event.meeting_id)
    notices = meetings.cancelled(event, parties, deps.options.calendar_domain, url, deps.clock.now())
    await record(deps, conn, cause_id, notices)


async def held(deps: Deps, conn: Conn, event: MeetingHeld) -> None:
    await _clear(deps, conn, event.meeting_id)


async def _clear(deps: Deps, conn: Conn, meeting_id: str) -> None:
    await deps.timers.cancel(conn, meetings.reminder_key(meeting_id))
    await deps.timers.cancel(conn, meetings.held_check_key(meeting_id))


async def _timer_notices(deps: Deps, conn: Conn, timer: Timer, template: str) -> list[Notice]:
    p = timer.payload
    parties = await _parties(deps, conn, p["relationship_id"])
    context = {
        "relationship_id": p["relationship_id"],
        "meeting_id": timer.subject,
        "starts_at": p["starts_at"],
        "ends_at": p["ends_at"],
        "url": p["url"],
        "attendee_ids": parties,
    }
    return [Notice(person, template, context) for person in parties]


async def reminder_due(deps: Deps, conn: Conn, timer: Timer) -> None:
    notices = await _timer_notices(deps, conn, timer, "meeting_reminder")
    await record(deps, conn, timer_cause_id(timer.key, timer.due_at), notices)


async def held_check_due(deps: Deps, conn: Conn, timer: Timer) -> None:
    """After the end: "did it happen?" with a link to the meeting's page (one click there logs it)."""
    notices = await _timer_notices(deps, conn, timer, "meeting_did_it_happen")
    await record(deps, conn, timer_cause_id(timer.key, timer.due_at), notices)


async def _to_the_parties(deps: Deps, conn: Conn, cause_id: str, kind: str, relationship_id: str, **facts) -> None:
    """A mail of ``kind`` to every party of the relationship, linking to its page in the portal."""
    parties = await parties_of(deps, conn, relationship_id)
    url = f"{deps.options.portal_url.rstrip('/')}/relationships/{relationship_id}"
    context = {"relationship_id": relationship_id, **facts, "url": url}
    notices = to_parties(kind, parties.mentor_id, parties.mentee_ids, context, parties.co_mentor_ids)
    await record(deps, conn, cause_id, notices)


async def nudge_due(deps: Deps, conn: Conn, event: MeetingNudgeDue, cause_id: str) -> None:
    await _to_the_parties(
        deps,
        conn,
        cause_id,
        "meeting_nudge",
        event.relationship_id,
        next_meeting_due_on=event.next_meeting_due_on.isoformat(),
        lagging_on=event.lagging_on.isoformat(),
        cadence_weeks_max=event.cadence_weeks_max,
    )


async def reengagement(deps: Deps, conn: Conn, event: ReengagementNudged, cause_id: str) -> None:
    await _to_the_parties(
        deps,
        conn,
        cause_id,
        "reengagement_nudge",
        event.relationship_id,
        lagging_since=event.lagging_since.isoformat(),
        inactivity_days=event.inactivity_days,
    )


async def inactive(deps: Deps, conn: Conn, event: RelationshipInactive, cause_id: str) -> None:
    """The directors are told; they may close the relationship."""
    context = {
        "relationship_id": event.relationship_id,
        "lagging_since": event.lagging_since.isoformat(),
        "last_meeting_on": event.last_meeting_on.isoformat() if event.last_meeting_on else None,
        "attendee_ids": [p for p in (event.mentor_id, *event.co_mentor_ids, *event.mentee_ids) if p],
        "url": f"{deps.options.portal_url.rstrip('/')}/relationships/{event.relationship_id}",
    }
    await record(deps, conn, cause_id, [Notice(d, "relationship_inactive", context) for d in deps.directors])
