"""Who is told what about a scheduled meeting, with the invitation each message carries.  Pure.

Every party of the relationship gets each change: the acceptance (METHOD REQUEST, CONFIRMED), a
reschedule (REQUEST, TENTATIVE at the first newly proposed time, until one is accepted) and the
cancellation (METHOD CANCEL).  The invitation's UID is derived from the meeting id, so each change
replaces the same event in the recipients' calendars; its SEQUENCE is the event's.  The iCalendar text
itself is written per recipient at render time (their time zone), from the ``invitation`` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from services.notifications.domain.audience import Notice
from shared.events.relationships import MeetingAccepted, MeetingCancelled, MeetingProposed, MeetingRescheduled

SUMMARY = "Mentoring meeting"


def uid(meeting_id: str, domain: str) -> str:
    return f"{meeting_id}@{domain}"


def meeting_url(portal_url: str, relationship_id: str, meeting_id: str) -> str:
    return f"{portal_url.rstrip('/')}/relationships/{relationship_id}/meetings/{meeting_id}"


def agenda_text(goal_ids: Sequence[str], topics: Sequence[str]) -> str:
    parts = []
    if topics:
        parts.append("Topics: " + ", ".join(topics))
    if goal_ids:
        parts.append(f"Goals to review: {len(goal_ids)}")
    return "\n".join(parts)


def _context(relationship_id: str, meeting_id: str, organizer_id: str, parties: Sequence[str], url: str) -> dict:
    return {
        "relationship_id": relationship_id,
        "meeting_id": meeting_id,
        "organizer_id": organizer_id,
        "attendee_ids": list(parties),
        "url": url,
    }


def _invitation(
    uid_: str, sequence: int, method: str, status: str, starts: datetime | None, ends: datetime | None, **more: Any
) -> dict[str, Any]:
    return {
        "uid": uid_,
        "sequence": sequence,
        "method": method,
        "status": status,
        "starts_at": starts.isoformat() if starts else None,
        "ends_at": ends.isoformat() if ends else None,
        "summary": SUMMARY,
        **more,
    }


def proposed(event: MeetingProposed | MeetingRescheduled, parties: Sequence[str], url: str) -> list[Notice]:
    """The others are asked to choose one of the proposed times (no invitation yet)."""
    context = {
        **_context(event.relationship_id, event.meeting_id, event.proposed_by, parties, url),
        "candidates": [c.isoformat() for c in event.candidates],
        "duration_minutes": event.duration_minutes,
        "agenda": agenda_text(event.agenda_goals, event.agenda_topics),
    }
    return [Notice(p, "meeting_proposed", context) for p in parties if p != event.proposed_by]


def accepted(event: MeetingAccepted, parties: Sequence[str], domain: str, url: str, stamp: datetime) -> list[Notice]:
    agenda = agenda_text(event.agenda_goals, event.agenda_topics)
    context = {
        **_context(event.relationship_id, event.meeting_id, event.organizer_id, parties, url),
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "agenda": agenda,
        "invitation": _invitation(
            uid(event.meeting_id, domain),
            event.sequence,
            "REQUEST",
            "CONFIRMED",
            event.starts_at,
            event.ends_at,
            description=agenda,
            url=url,
            stamp=stamp.isoformat(),
        ),
    }
    return [Notice(p, "meeting_accepted", context) for p in parties]


def rescheduled(
    event: MeetingRescheduled, parties: Sequence[str], domain: str, url: str, stamp: datetime
) -> list[Notice]:
    first = min(event.candidates)
    ends = first + timedelta(minutes=event.duration_minutes)
    agenda = agenda_text(event.agenda_goals, event.agenda_topics)
    context = {
        **_context(event.relationship_id, event.meeting_id, event.organizer_id, parties, url),
        "proposed_by_id": event.proposed_by,
        "candidates": [c.isoformat() for c in event.candidates],
        "duration_minutes": event.duration_minutes,
        "agenda": agenda,
        "invitation": _invitation(
            uid(event.meeting_id, domain),
            event.sequence,
            "REQUEST",
            "TENTATIVE",
            first,
            ends,
            description=agenda,
            url=url,
            stamp=stamp.isoformat(),
        ),
    }
    return [Notice(p, "meeting_rescheduled", context) for p in parties]


def cancelled(event: MeetingCancelled, parties: Sequence[str], domain: str, url: str, stamp: datetime) -> list[Notice]:
    context = {
        **_context(event.relationship_id, event.meeting_id, event.organizer_id, parties, url),
        "starts_at": event.starts_at.isoformat() if event.starts_at else None,
        "invitation": _invitation(
            uid(event.meeting_id, domain),
            event.sequence,
            "CANCEL",
            "CANCELLED",
            event.starts_at,
            event.ends_at,
            url=url,
            stamp=stamp.isoformat(),
        ),
    }
    return [Notice(p, "meeting_cancelled", context) for p in parties]


def reminder_key(meeting_id: str) -> str:
    return f"meeting-reminder:{meeting_id}"


def held_check_key(meeting_id: str) -> str:
    return f"meeting-held-check:{meeting_id}"
