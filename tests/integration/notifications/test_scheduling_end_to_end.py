"""Scheduling across the real stack: relationships decides and publishes, the broker carries it, notifications mails
the invitations over SMTP — propose → accept → reschedule → cancel, parsed back with ``icalendar``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import icalendar
import pytest

from services.relationships.adapters.cipher import new_key
from services.relationships.bootstrap import build_app as build_relationships
from services.relationships.settings import RelationshipsSettings
from shared.auth import Role
from shared.clock import FrozenClock
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields
from tests.helpers import eventually, unique
from tests.integration import service_harness
from tests.integration.service_harness import START, auth, envelope_of, settings_for


@pytest.fixture
async def relationships(postgres, broker):
    name = f"t_{uuid.uuid4().hex[:16]}"
    dsn = postgres.create_database(name)
    options = RelationshipsSettings(confidential_keys=f"test:{new_key()}")
    app = build_relationships(settings_for("relationships", dsn, broker.bootstrap), FrozenClock(START), options)
    try:
        async with service_harness.running(
            service_harness.Service, app, FrozenClock(START), broker.bootstrap, base_url="http://relationships"
        ) as service:
            yield service
    finally:
        postgres.drop_database(name)


def registered(cls, participant_id: str, name: str, zone: str):
    profile = ProfileFields(biography="", specialty="cardiology", career_stage="senior", time_zone=zone)
    extra = {"capacity": 2} if cls is MentorRegistered else {}
    event = cls(
        participant_id=participant_id, name=name, email=f"{participant_id}@uni.example", profile=profile, **extra
    )
    return envelope_of(event, participant_id)


async def test_propose_accept_reschedule_cancel_arrive_as_one_calendar_event(live_service, relationships) -> None:
    mail = live_service
    mentor, mentee = unique("mentor"), unique("mentee")
    as_mentor, as_mentee = auth(mentor, Role.mentor), auth(mentee, Role.mentee)
    await mail.publish(
        registered(MentorRegistered, mentor, "Prof Mira Mentor", "Europe/Berlin"),
        registered(MenteeRegistered, mentee, "Tom Trainee", "America/New_York"),
    )
    started = await relationships.client.post(
        "/relationships",
        json={"model": "one_to_one", "mentor_id": mentor, "mentee_ids": [mentee]},
        headers=auth("director-1", Role.admin),
    )
    rid = started.json()["relationship_id"]

    async def zones_known() -> bool:
        shown = await relationships.client.get(f"/relationships/{rid}/meetings/availability", headers=as_mentor)
        return shown.json()[mentee]["time_zone"] == "America/New_York"

    await eventually(zones_known, timeout=40)
    first, second = "2026-03-10T14:00:00+01:00", "2026-03-31T15:00:00+02:00"  # both 09:00 in New York
    base = f"/relationships/{rid}/meetings"
    proposed = await relationships.client.post(
        f"{base}/proposals", headers=as_mentor, json={"candidates": [first], "duration_minutes": 60}
    )
    mid = proposed.json()["meeting_id"]
    steps = [
        (f"{base}/{mid}/acceptance", as_mentee, {"starts_at": first}),
        (f"{base}/{mid}/reschedule", as_mentee, {"candidates": [second]}),
        (f"{base}/{mid}/acceptance", as_mentor, {"starts_at": second}),
        (f"{base}/{mid}/cancellation", as_mentor, None),
    ]
    for url, who, body in steps:
        response = await relationships.client.post(url, headers=who, json=body)
        assert response.status_code == 200, response.text

    def invitations_for(who: str) -> list:
        return [m for m in mail.mailbox.to(f"{who}@uni.example") if m.get_content_type() == "multipart/mixed"]

    await eventually(lambda: len(invitations_for(mentor)) == 4 and len(invitations_for(mentee)) == 4, timeout=60)
    for who, zone in ((mentee, "America/New_York"), (mentor, "Europe/Berlin")):
        parsed = []
        for message in invitations_for(who):
            [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
            calendar = icalendar.Calendar.from_ical(part.get_content())
            [event] = calendar.events
            parsed.append((int(event["SEQUENCE"]), str(calendar["METHOD"]), event))
        parsed.sort(key=lambda p: p[0])
        assert [(s, m) for s, m, _ in parsed] == [(0, "REQUEST"), (1, "REQUEST"), (2, "REQUEST"), (3, "CANCEL")]
        assert {str(e["UID"]) for _, _, e in parsed} == {f"{mid}@mentorship"}
        starts = [e["DTSTART"].dt for _, _, e in parsed]
        assert starts == [datetime.fromisoformat(t) for t in (first, second, second, second)]
        assert all(e["DTSTART"].params["TZID"] == zone for _, _, e in parsed)
        assert parsed[0][2]["DTEND"].dt - starts[0] == timedelta(hours=1)
        assert {str(e["ORGANIZER"]) for _, _, e in parsed} == {f"mailto:{mentor}@uni.example"}
        assert sorted(str(a) for a in parsed[0][2]["ATTENDEE"]) == sorted(
            [f"mailto:{mentor}@uni.example", f"mailto:{mentee}@uni.example"]
        )
    [asked] = [m for m in mail.mailbox.to(f"{mentee}@uni.example") if "proposes" in m["Subject"]]
    assert "Tuesday 10 March 2026, 09:00 (America/New_York)" in mail.mailbox.text(asked)
