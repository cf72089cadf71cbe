"""Scheduled meetings mailed with iCalendar invitations over a real SMTP server, parsed back with ``icalendar``:
one UID per meeting, a rising SEQUENCE, times in each recipient's zone across the weeks where Berlin and New York
are 5 hours apart, METHOD CANCEL at the end; the reminder and the "did it happen?" on durable timers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar

from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields
from shared.events.relationships import (
    MeetingAccepted,
    MeetingCancelled,
    MeetingHeld,
    MeetingProposed,
    MeetingRescheduled,
    RelationshipStarted,
)
from shared.timers import pending
from tests.helpers import unique
from tests.integration.service_harness import envelope_of

MAR_10_13Z = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)  # Berlin 14:00 (CET), New York 09:00 (EDT since 03-08)
MAR_31_13Z = datetime(2026, 3, 31, 13, 0, tzinfo=UTC)  # Berlin 15:00 (CEST since 03-29), New York 09:00 (EDT)


def registered(cls, participant_id: str, name: str, zone: str):
    profile = ProfileFields(biography="", specialty="cardiology", career_stage="senior", time_zone=zone)
    extra = {"capacity": 2} if cls is MentorRegistered else {}
    event = cls(
        participant_id=participant_id, name=name, email=f"{participant_id}@uni.example", profile=profile, **extra
    )
    return envelope_of(event, participant_id)


async def pair_in_two_zones(service) -> tuple[str, str, str]:
    mentor, mentee, rid = unique("mentor"), unique("mentee"), unique("rel")
    started = RelationshipStarted(
        relationship_id=rid,
        model="one_to_one",
        mentor_id=mentor,
        mentee_ids=[mentee],
        match_id=unique("m"),
        started_on=date(2026, 3, 2),
    )
    await service.consume(
        registered(MentorRegistered, mentor, "Prof Mira Mentor", "Europe/Berlin"),
        registered(MenteeRegistered, mentee, "Tom Trainee", "America/New_York"),
        envelope_of(started, rid),
    )
    return mentor, mentee, rid


def invitation(message) -> tuple[str, icalendar.Event]:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "invite.ics"
    calendar = icalendar.Calendar.from_ical(part.get_content())
    assert part.get_param("method") == str(calendar["METHOD"])
    [event] = calendar.events
    return str(calendar["METHOD"]), event


def attendees(event: icalendar.Event) -> list[str]:
    found = event.get("ATTENDEE")
    return sorted(str(a) for a in (found if isinstance(found, list) else [found]))


async def test_accept_reschedule_accept_cancel_replace_one_calendar_event_in_each_recipients_zone(service) -> None:
    mentor, mentee, rid = await pair_in_two_zones(service)
    mid = unique("meeting")
    common = {"relationship_id": rid, "meeting_id": mid}
    proposed = MeetingProposed(
        **common, proposed_by=mentor, candidates=[MAR_10_13Z], duration_minutes=60, agenda_topics=["goals"]
    )
    accepted = MeetingAccepted(
        **common,
        accepted_by=mentee,
        organizer_id=mentor,
        starts_at=MAR_10_13Z,
        ends_at=MAR_10_13Z + timedelta(hours=1),
        sequence=0,
        agenda_topics=["goals"],
    )
    moved = MeetingRescheduled(
        **common, proposed_by=mentee, organizer_id=mentor, candidates=[MAR_31_13Z], duration_minutes=60, sequence=1
    )
    accepted_again = MeetingAccepted(
        **common,
        accepted_by=mentor,
        organizer_id=mentor,
        starts_at=MAR_31_13Z,
        ends_at=MAR_31_13Z + timedelta(hours=1),
        sequence=2,
    )
    cancelled = MeetingCancelled(
        **common,
        cancelled_by=mentee,
        organizer_id=mentor,
        sequence=3,
        starts_at=MAR_31_13Z,
        ends_at=MAR_31_13Z + timedelta(hours=1),
    )
    await service.consume(*(envelope_of(e, mid) for e in (proposed, accepted, moved, accepted_again, cancelled)))
    await service.deliver()

    [asked] = [m for m in service.mailbox.to(f"{mentee}@uni.example") if "proposes" in m["Subject"]]
    assert "Tuesday 10 March 2026, 09:00 (America/New_York)" in service.mailbox.text(asked)
    assert not [m for m in service.mailbox.to(f"{mentor}@uni.example") if "proposes" in m["Subject"]]

    everyone = sorted([f"mailto:{mentor}@uni.example", f"mailto:{mentee}@uni.example"])
    for who, zone, first_local, second_local in (
        (mentee, "America/New_York", datetime(2026, 3, 10, 9), datetime(2026, 3, 31, 9)),
        (mentor, "Europe/Berlin", datetime(2026, 3, 10, 14), datetime(2026, 3, 31, 15)),
    ):
        mails = [m for m in service.mailbox.to(f"{who}@uni.example") if "proposes" not in m["Subject"]]
        assert len(mails) == 4
        parsed = [invitation(m) for m in mails]
        by_sequence = sorted(parsed, key=lambda p: int(p[1]["SEQUENCE"]))
        assert [int(e["SEQUENCE"]) for _, e in by_sequence] == [0, 1, 2, 3]
        assert {str(e["UID"]) for _, e in parsed} == {f"{mid}@mentorship"}
        assert [m for m, _ in by_sequence] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
        assert [str(e["STATUS"]) for _, e in by_sequence] == ["CONFIRMED", "TENTATIVE", "CONFIRMED", "CANCELLED"]
        for _, event in by_sequence:
            assert str(event["ORGANIZER"]) == f"mailto:{mentor}@uni.example"
            assert attendees(event) == everyone
            assert event["DTSTART"].params["TZID"] == zone
        first, second = by_sequence[0][1], by_sequence[2][1]
        assert first["DTSTART"].dt.replace(tzinfo=None) == first_local and first["DTSTART"].dt == MAR_10_13Z
        assert second["DTSTART"].dt.replace(tzinfo=None) == second_local and second["DTSTART"].dt == MAR_31_13Z
        assert second["DTEND"].dt == MAR_31_13Z + timedelta(hours=1)
        assert "Topics: goals" in str(first["DESCRIPTION"])
        assert str(first["URL"]).endswith(f"/relationships/{rid}/meetings/{mid}")


async def test_the_reminder_and_did_it_happen_come_on_timers_and_a_held_meeting_is_not_asked(service) -> None:
    mentor, mentee, rid = await pair_in_two_zones(service)
    mid, other = unique("meeting"), unique("meeting")
    await service.consume(
        envelope_of(
            MeetingAccepted(
                relationship_id=rid,
                meeting_id=mid,
                accepted_by=mentee,
                organizer_id=mentor,
                starts_at=MAR_10_13Z,
                ends_at=MAR_10_13Z + timedelta(minutes=45),
                sequence=0,
            ),
            mid,
        ),
        envelope_of(
            MeetingAccepted(
                relationship_id=rid,
                meeting_id=other,
                accepted_by=mentee,
                organizer_id=mentor,
                starts_at=MAR_31_13Z,
                ends_at=MAR_31_13Z + timedelta(minutes=45),
                sequence=0,
            ),
            other,
        ),
    )
    async with service.runtime.pool.acquire() as conn:
        due = sorted((t.kind, t.due_at) for t in await pending(conn) if t.subject == mid)
    assert due == [
        ("meeting-held-check", MAR_10_13Z + timedelta(minutes=45)),
        ("meeting-reminder", MAR_10_13Z - timedelta(hours=24)),
    ]
    await service.deliver()
    before = len(service.mailbox.messages)

    service.clock.advance(MAR_10_13Z - timedelta(hours=24) - service.clock.now())
    assert await service.fire_timers() == 1
    await service.deliver()
    reminders = service.mailbox.messages[before:]
    assert sorted(m["To"].split("<")[-1].rstrip(">") for m in reminders) == sorted(
        [f"{mentor}@uni.example", f"{mentee}@uni.example"]
    )
    assert all(m["Subject"].startswith("Reminder: mentoring meeting") for m in reminders)
    [to_mentee] = [m for m in reminders if mentee in m["To"]]
    assert "09:00 (America/New_York)" in to_mentee["Subject"]

    service.clock.advance(timedelta(hours=24, minutes=45))
    assert await service.fire_timers() == 1
    await service.deliver()
    asked = service.mailbox.messages[before + 2 :]
    assert len(asked) == 2 and all(m["Subject"] == "Did your mentoring meeting happen?" for m in asked)
    assert f"/relationships/{rid}/meetings/{mid}" in service.mailbox.text(asked[0])

    await service.consume(
        envelope_of(
            MeetingHeld(
                relationship_id=rid,
                meeting_id=other,
                confirmed_by=mentor,
                held_on=date(2026, 3, 31),
                duration_minutes=45,
            ),
            other,
        )
    )
    service.clock.advance(timedelta(days=30))
    assert await service.fire_timers() == 0  # confirmed as held: neither reminded nor asked any more
    await service.deliver()
    assert len(service.mailbox.messages) == before + 4
