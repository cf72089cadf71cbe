"""Meeting invitations: the iCalendar text per recipient, the MIME attachment, the rules of who gets what."""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from services.notifications.adapters.ical import invitation_ics
from services.notifications.adapters.mime import MimeWriter
from services.notifications.adapters.templates import Templates, local_time
from services.notifications.domain import meetings
from services.notifications.domain.outgoing import Outgoing
from services.notifications.domain.people import people_ids, with_people
from shared.events.relationships import MeetingAccepted, MeetingCancelled, MeetingProposed

pytestmark = pytest.mark.unit

START = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
STAMP = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PEOPLE = {
    "mira": {"name": "Mira Mentor", "email": "mira@uni.example", "time_zone": "Europe/Berlin"},
    "tom": {"name": "Tom Trainee", "email": "tom@uni.example", "time_zone": "America/New_York"},
}


def accepted(sequence: int = 0) -> MeetingAccepted:
    return MeetingAccepted(
        relationship_id="r1",
        meeting_id="m1",
        accepted_by="tom",
        organizer_id="mira",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        sequence=sequence,
        agenda_topics=["goals"],
        agenda_goals=["g1"],
    )


def test_each_party_gets_the_invitation_with_a_stable_uid_and_the_events_sequence() -> None:
    notices = meetings.accepted(accepted(2), ["mira", "tom"], "mentorship", "https://portal/x", STAMP)
    assert [n.recipient_id for n in notices] == ["mira", "tom"]
    invitation = notices[0].context["invitation"]
    assert invitation["uid"] == "m1@mentorship" and invitation["sequence"] == 2 and invitation["method"] == "REQUEST"
    assert invitation["description"] == "Topics: goals\nGoals to review: 1"
    cancelled = MeetingCancelled(
        relationship_id="r1", meeting_id="m1", cancelled_by="tom", organizer_id="mira", sequence=3
    )
    [c, _] = meetings.cancelled(cancelled, ["mira", "tom"], "mentorship", "u", STAMP)
    assert c.context["invitation"]["method"] == "CANCEL" and c.context["invitation"]["starts_at"] is None
    proposal = MeetingProposed(
        relationship_id="r1", meeting_id="m1", proposed_by="tom", candidates=[START], duration_minutes=30
    )
    assert [n.recipient_id for n in meetings.proposed(proposal, ["mira", "tom"], "u")] == ["mira"]


def test_the_ics_reads_back_in_the_recipients_zone_with_organizer_and_attendees() -> None:
    [to_mira, to_tom] = meetings.accepted(accepted(), ["mira", "tom"], "mentorship", "https://portal/x", STAMP)
    for notice, zone, hour in ((to_mira, "Europe/Berlin", 14), (to_tom, "America/New_York", 9)):
        context = with_people(notice.context, PEOPLE, notice.recipient_id)
        text = invitation_ics(context["invitation"], context["organizer"], context["attendees"], context["recipient"])
        calendar = icalendar.Calendar.from_ical(text)
        [event] = calendar.events
        assert str(calendar["METHOD"]) == "REQUEST" and str(event["UID"]) == "m1@mentorship"
        assert event["DTSTART"].params["TZID"] == zone and event["DTSTART"].dt.hour == hour
        assert event["DTSTART"].dt == START and event["DTEND"].dt == START + timedelta(hours=1)
        assert str(event["ORGANIZER"]) == "mailto:mira@uni.example"
        assert sorted(str(a) for a in event["ATTENDEE"]) == ["mailto:mira@uni.example", "mailto:tom@uni.example"]
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [zone]
        assert event["DTSTAMP"].dt == STAMP


def test_people_named_by_an_invitation_are_resolved() -> None:
    [notice, _] = meetings.accepted(accepted(), ["mira", "tom"], "mentorship", "u", STAMP)
    assert people_ids("mira", notice.context) == {"mira", "tom"}


def test_the_invitation_travels_as_an_ics_attachment_beside_text_and_html() -> None:
    message = Outgoing(
        uuid.uuid4(),
        "<n@x>",
        "c",
        "tom",
        "Tom",
        "tom@uni.example",
        "meeting_accepted",
        "S",
        "text",
        "<p>h</p>",
        calendar="BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
    )
    parsed = email.message_from_bytes(MimeWriter("Office <o@uni.example>").build(message), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed.get_body(("plain",)).get_content().strip() == "text"
    [ics] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert ics.get_param("method") == "REQUEST" and ics.get_filename() == "invite.ics"
    assert ics.get_content().startswith("BEGIN:VCALENDAR")


def test_templates_render_times_in_the_recipients_zone() -> None:
    assert local_time("2026-03-10T13:00:00+00:00", PEOPLE["tom"]) == "Tuesday 10 March 2026, 09:00 (America/New_York)"
    assert local_time("2026-03-10T13:00:00+00:00", {"time_zone": None}).endswith("13:00 (UTC)")
    [_, to_tom] = meetings.accepted(accepted(), ["mira", "tom"], "mentorship", "https://portal/x", STAMP)
    rendered = Templates().render("meeting_accepted", with_people(to_tom.context, PEOPLE, "tom"))
    assert "09:00 (America/New_York)" in rendered.subject and rendered.calendar is not None
    assert "TZID=America/New_York" in rendered.calendar
