"""Nudges mailed: to schedule the next meeting and to re-engage (both parties), inactivity (the directors)."""

from __future__ import annotations

from datetime import date

from shared.events.relationships import MeetingNudgeDue, ReengagementNudged, RelationshipInactive, RelationshipStarted
from tests.helpers import unique
from tests.integration.notifications.conftest import DIRECTOR, person
from tests.integration.service_harness import envelope_of


async def test_nudges_go_to_both_parties_and_inactivity_to_the_directors(service) -> None:
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
        person(mentor, "Prof Mira Mentor", mentor=True), person(mentee, "Tom Trainee"), envelope_of(started, rid)
    )
    nudge = MeetingNudgeDue(
        relationship_id=rid, next_meeting_due_on=date(2026, 4, 27), lagging_on=date(2026, 5, 11), cadence_weeks_max=8
    )
    again = ReengagementNudged(relationship_id=rid, lagging_since=date(2026, 5, 11), inactivity_days=90)
    inactive = RelationshipInactive(
        relationship_id=rid, lagging_since=date(2026, 5, 11), mentor_id=mentor, mentee_ids=[mentee]
    )
    stream = f"nudges:{rid}"
    assert await service.consume(*(envelope_of(e, stream) for e in (nudge, again, inactive))) == ["handled"] * 3
    await service.deliver()

    for who in (mentor, mentee):
        subjects = sorted(m["Subject"] for m in service.mailbox.to(f"{who}@uni.example"))
        assert subjects == [
            "Time to schedule your next mentoring meeting (due by 2026-04-27)",
            "Your mentoring relationship has been quiet for a while",
        ]
    [to_director] = service.mailbox.to(f"{DIRECTOR}@uni.example")
    [to_office] = service.mailbox.to("office@uni.example")
    assert to_director["Subject"] == "Inactive mentoring relationship: Prof Mira Mentor, Tom Trainee"
    assert to_office["Subject"] == to_director["Subject"]
    assert f"/relationships/{rid}" in service.mailbox.text(to_director) and "close it" in service.mailbox.text(
        to_office
    )
