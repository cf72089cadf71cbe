"""Scheduled meetings, availability windows across DST and the nudges, decided by the domain alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.relationships.domain.errors import InvalidCommand, NotAParty, RelationshipRuleViolation
from services.relationships.domain.meeting_schedule import Agenda, Busy, MeetingSchedule, PairFacts
from services.relationships.domain.nudges import RelationshipNudges
from services.relationships.domain.relationship import Relationship
from services.relationships.domain.scheduling_availability import Calendar, Window, check_windows, outside_windows
from shared.events.relationships import MeetingAccepted, MeetingCancelled, MeetingHeld, MeetingRescheduled

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PAIR = PairFacts("r1", ("mentor-1", "mentee-1"), True, frozenset({"g1"}), ("goals", "career"))
NY_TUESDAY_MORNINGS = Calendar("mentee-1", "America/New_York", (Window(1, time(9), time(12)),))
BERLIN = Calendar("mentor-1", "Europe/Berlin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def proposed(*candidates: str, by: str = "mentor-1", minutes: int = 60) -> MeetingSchedule:
    meeting = MeetingSchedule("m1")
    events = meeting.propose(
        PAIR,
        by,
        [at(c) for c in candidates],
        minutes,
        Agenda(("g1",), ("goals",)),
        "video",
        NOW,
        {"mentee-1": NY_TUESDAY_MORNINGS, "mentor-1": BERLIN},
        [],
    )
    meeting.apply_all(events, NOW)
    return meeting


def test_windows_are_read_in_the_persons_zone_on_both_sides_of_the_us_dst_change() -> None:
    # 14:00 Berlin on a Tuesday: 08:00 in New York before 2026-03-08, 09:00 after (Europe changes on 03-29)
    before = at("2026-03-03T14:00:00+01:00")
    after = at("2026-03-10T14:00:00+01:00")
    reason = outside_windows(NY_TUESDAY_MORNINGS, before, before + timedelta(hours=1))
    assert reason is not None and "Tuesday 08:00-09:00 America/New_York" in reason
    assert outside_windows(NY_TUESDAY_MORNINGS, after, after + timedelta(hours=1)) is None
    late = at("2026-03-31T16:00:00+02:00")  # 10:00 New York, both on summer time
    assert outside_windows(NY_TUESDAY_MORNINGS, late, late + timedelta(hours=2)) is None
    assert outside_windows(NY_TUESDAY_MORNINGS, late, late + timedelta(hours=3)) is not None
    assert outside_windows(BERLIN, before, before + timedelta(hours=1)) is None  # no windows: any time


def test_window_shape() -> None:
    assert check_windows([Window(1, time(9), time(12))]) is None
    assert check_windows([Window(1, time(12), time(9))]) == "0: ends after it starts"


def test_a_proposal_names_the_field_of_a_time_outside_availability_in_the_past_or_overlapping() -> None:
    with pytest.raises(InvalidCommand) as outside:
        proposed("2026-03-10T14:00:00+01:00", "2026-03-03T14:00:00+01:00")
    assert outside.value.field == "candidates.1"
    with pytest.raises(InvalidCommand) as past:
        proposed("2026-03-01T14:00:00+00:00", by="mentee-1")
    assert past.value.field == "candidates.0"
    meeting = MeetingSchedule("m2")
    busy = [Busy("m1", at("2026-03-10T13:00:00+00:00"), at("2026-03-10T14:00:00+00:00"))]
    with pytest.raises(InvalidCommand) as clash:
        meeting.propose(PAIR, "mentee-1", [at("2026-03-10T13:59:00+00:00")], 30, Agenda(), "video", NOW, {}, busy)
    assert clash.value.field == "candidates.0" and "m1" in clash.value.reason
    assert meeting.propose(PAIR, "mentee-1", [at("2026-03-10T14:00:00+00:00")], 30, Agenda(), "video", NOW, {}, busy)
    with pytest.raises(InvalidCommand) as topic:
        meeting.propose(
            PAIR, "mentee-1", [at("2026-03-11T14:00:00+00:00")], 30, Agenda((), ("x",)), "video", NOW, {}, []
        )
    assert topic.value.field == "agenda_topics"
    with pytest.raises(NotAParty):
        meeting.propose(PAIR, "stranger", [at("2026-03-11T14:00:00+00:00")], 30, Agenda(), "video", NOW, {}, [])


def test_only_another_party_accepts_one_of_the_proposed_times_and_sequence_rises_with_each_change() -> None:
    meeting = proposed("2026-03-10T14:00:00+01:00")
    with pytest.raises(RelationshipRuleViolation):
        meeting.accept(PAIR, "mentor-1", at("2026-03-10T14:00:00+01:00"), NOW, [])
    with pytest.raises(InvalidCommand):
        meeting.accept(PAIR, "mentee-1", at("2026-03-10T15:00:00+01:00"), NOW, [])
    [accepted] = meeting.accept(PAIR, "mentee-1", at("2026-03-10T13:00:00+00:00"), NOW, [])
    assert isinstance(accepted, MeetingAccepted) and accepted.sequence == 0 and accepted.organizer_id == "mentor-1"
    meeting.apply(accepted, NOW)
    [moved] = meeting.reschedule(PAIR, "mentee-1", [at("2026-03-17T13:00:00+00:00")], None, None, NOW, {}, [])
    assert isinstance(moved, MeetingRescheduled) and moved.sequence == 1 and moved.duration_minutes == 60
    meeting.apply(moved, NOW)
    [again] = meeting.accept(PAIR, "mentor-1", at("2026-03-17T13:00:00+00:00"), NOW, [])
    assert again.sequence == 2 and again.organizer_id == "mentor-1"  # the organizer stays who first proposed
    meeting.apply(again, NOW)
    [cancelled] = meeting.cancel(PAIR, "mentee-1")
    assert isinstance(cancelled, MeetingCancelled) and cancelled.sequence == 3
    assert cancelled.starts_at == at("2026-03-17T13:00:00+00:00")
    meeting.apply(cancelled, NOW)
    with pytest.raises(RelationshipRuleViolation):
        meeting.cancel(PAIR, "mentee-1")


def test_held_only_after_the_end_of_an_accepted_meeting() -> None:
    meeting = proposed("2026-03-10T14:00:00+01:00")
    with pytest.raises(RelationshipRuleViolation):
        meeting.confirm_held(PAIR, "mentor-1", NOW + timedelta(days=30))
    meeting.apply_all(meeting.accept(PAIR, "mentee-1", at("2026-03-10T14:00:00+01:00"), NOW, []), NOW)
    with pytest.raises(RelationshipRuleViolation):
        meeting.confirm_held(PAIR, "mentor-1", at("2026-03-10T13:59:00+00:00"))
    [held] = meeting.confirm_held(PAIR, "mentor-1", at("2026-03-10T14:00:00+00:00"))
    assert isinstance(held, MeetingHeld) and held.held_on == date(2026, 3, 10) and held.duration_minutes == 60


def relationship(last_meeting_on: date | None = None, lagging: bool = False) -> Relationship:
    r = Relationship("r1", version=1, mentor_id="mentor-1", mentee_ids=["mentee-1"], started_on=date(2026, 3, 2))
    r.last_meeting_on, r.lagging = last_meeting_on, lagging
    return r


GRACE = timedelta(days=14)


def test_nudge_once_per_period_and_not_when_a_meeting_is_scheduled_in_time() -> None:
    nudges = RelationshipNudges("nudges:r1")
    r = relationship()  # due by 2026-04-27, lagging on 2026-05-11
    [nudge] = nudges.nudge_to_schedule(r, GRACE, date(2026, 5, 4), None)
    assert (nudge.next_meeting_due_on, nudge.lagging_on) == (date(2026, 4, 27), date(2026, 5, 11))
    assert nudges.nudge_to_schedule(r, GRACE, date(2026, 5, 4), at("2026-05-10T10:00:00+00:00")) == []
    assert nudges.nudge_to_schedule(r, GRACE, date(2026, 5, 11), None) == []  # too late: lagging
    nudges.apply(nudge, NOW)
    assert nudges.nudge_to_schedule(r, GRACE, date(2026, 5, 5), None) == []
    assert nudges.nudge_to_schedule(relationship(date(2026, 4, 1)), GRACE, date(2026, 6, 1), None) != []


def test_reengagement_after_the_inactivity_period_then_the_directors_notice() -> None:
    nudges = RelationshipNudges("nudges:r1")
    lagging = relationship(lagging=True)
    assert nudges.reengage(lagging, GRACE, date(2026, 8, 8), 90) == []
    [again] = nudges.reengage(lagging, GRACE, date(2026, 8, 9), 90)
    assert nudges.notice_director(lagging, GRACE, date(2026, 9, 9), 30) == []  # not asked yet
    nudges.apply(again, datetime(2026, 8, 9, tzinfo=UTC))
    assert nudges.reengage(lagging, GRACE, date(2026, 9, 9), 90) == []
    assert nudges.notice_director(lagging, GRACE, date(2026, 9, 7), 30) == []
    [notice] = nudges.notice_director(lagging, GRACE, date(2026, 9, 8), 30)
    assert notice.mentor_id == "mentor-1" and notice.lagging_since == date(2026, 5, 11)
    assert nudges.notice_director(relationship(lagging=False), GRACE, date(2026, 9, 8), 30) == []


def test_a_proposal_not_yet_accepted_can_be_rescheduled_and_cancelled() -> None:
    meeting = proposed("2026-03-10T14:00:00+01:00")
    [moved] = meeting.reschedule(PAIR, "mentee-1", [at("2026-03-12T13:00:00+00:00")], 30, None, NOW, {}, [])
    assert moved.sequence == 0 and moved.proposed_by == "mentee-1"
    meeting.apply(moved, NOW)
    with pytest.raises(RelationshipRuleViolation):
        meeting.accept(PAIR, "mentee-1", at("2026-03-12T13:00:00+00:00"), NOW, [])
    [accepted] = meeting.accept(PAIR, "mentor-1", at("2026-03-12T13:00:00+00:00"), NOW, [])
    assert accepted.sequence == 1 and accepted.ends_at - accepted.starts_at == timedelta(minutes=30)
    other = proposed("2026-03-10T14:00:00+01:00")
    [cancelled] = other.cancel(PAIR, "mentor-1")
    assert cancelled.sequence == 0 and cancelled.starts_at is None
