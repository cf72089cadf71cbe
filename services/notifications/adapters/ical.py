"""A meeting's invitation as an iCalendar object (RFC 5545, iTIP methods REQUEST and CANCEL), via ``icalendar``.

One VEVENT per meeting with a stable UID (``<meeting id>@<calendar_domain>``), so each update (a higher
SEQUENCE) or cancellation replaces the same event in the recipient's calendar.  DTSTART and DTEND carry
the recipient's time zone (TZID, with its VTIMEZONE), so the times read as they will be lived locally on
either side of a DST change; a recipient without a known zone gets UTC.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

PRODID = "-//Mentorship//Scheduled meetings//EN"


def _zone(person: Mapping[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(person.get("time_zone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _address(person: Mapping[str, Any], role: str | None = None) -> vCalAddress | None:
    if not person.get("email"):
        return None
    address = vCalAddress(f"mailto:{person['email']}")
    address.params["CN"] = vText(person.get("name") or person["email"])
    if role:
        address.params["ROLE"] = vText(role)
        address.params["PARTSTAT"] = vText("ACCEPTED" if role == "CHAIR" else "NEEDS-ACTION")
        address.params["RSVP"] = vText("FALSE")
    return address


@functools.lru_cache(maxsize=256)
def _vtimezone(key: str, year: int) -> Timezone:
    """The zone's rules around ``year`` (a VTIMEZONE is costly to compute; zones and years repeat)."""
    return Timezone.from_tzinfo(ZoneInfo(key), first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))


def invitation_ics(
    invitation: Mapping[str, Any],
    organizer: Mapping[str, Any],
    attendees: Sequence[Mapping[str, Any]],
    recipient: Mapping[str, Any],
) -> str:
    """The iCalendar text of ``invitation`` (uid, sequence, method, status, starts_at, ends_at, summary,
    description, url, stamp: when the change was recorded) as ``recipient`` receives it."""
    zone = _zone(recipient)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", invitation["method"])
    event = Event()
    event.add("uid", invitation["uid"])
    event.add("sequence", int(invitation["sequence"]))
    event.add("dtstamp", datetime.fromisoformat(invitation["stamp"]).astimezone(UTC))
    event.add("summary", invitation["summary"])
    if invitation.get("description"):
        event.add("description", invitation["description"])
    if invitation.get("url"):
        event.add("url", invitation["url"])
    event.add("status", invitation["status"])
    starts = invitation.get("starts_at")
    if starts:
        event.add("dtstart", datetime.fromisoformat(starts).astimezone(zone))
        event.add("dtend", datetime.fromisoformat(invitation["ends_at"]).astimezone(zone))
    if (chair := _address(organizer)) is not None:
        event.add("organizer", chair)
    for attendee in attendees:
        role = "CHAIR" if attendee.get("email") == organizer.get("email") else "REQ-PARTICIPANT"
        if (address := _address(attendee, role)) is not None:
            event.add("attendee", address, encode=0)
    if starts and zone.key != "UTC":
        calendar.add_component(_vtimezone(zone.key, datetime.fromisoformat(starts).year))
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
