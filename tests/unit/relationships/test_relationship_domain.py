"""The relationship aggregate alone: decide from commands, evolve from events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.relationships.domain.agreement import (
    AgreementDraft,
    AgreementTerms,
    Milestone,
)
from services.relationships.domain.errors import (
    InvalidCommand,
    NotAParty,
    RelationshipRuleViolation,
)
from services.relationships.domain.relationship import Relationship
from shared.events.relationships import (
    AgreementReviewDue,
    AgreementSigned,
    FeedbackSubmitted,
    GoalProgressed,
    MeetingLogged,
    MemberLeft,
    RelationshipClosed,
    RelationshipLagging,
    SmartGoal,
)

pytestmark = pytest.mark.unit

DAY0 = date(2026, 1, 5)
GRACE = timedelta(days=14)
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def started(model="one_to_one", mentees=("mentee-1",)) -> Relationship:
    r = Relationship("rel-1")
    r.apply_all(r.start(model, "mentor-1", list(mentees), "match-1", DAY0), AT)
    return r


def terms(**overrides) -> AgreementTerms:
    values = {
        "format": "video",
        "goals": [
            SmartGoal(goal_id="g1", text="Submit an R01", measure="submitted", due_on=DAY0 + timedelta(days=200))
        ],
        "development_plan": [Milestone(title="Specific aims drafted", due_on=DAY0 + timedelta(days=60))],
    }
    return AgreementTerms(**{**values, **overrides})


def signed(r: Relationship | None = None, on: date = DAY0, **overrides) -> Relationship:
    r = r or started()
    draft = AgreementDraft.propose(None, r.relationship_id, terms(**overrides), "mentor-1", on)
    for party in r.parties:
        draft.sign(party, 1, on, confidentiality_accepted=True, no_fault_acknowledged=True)
    r.apply_all(r.conclude_agreement(draft, on), AT)
    return r


def meet(r: Relationship, on: date, meeting_id: str = "m1") -> None:
    r.apply_all(r.log_meeting("mentee-1", meeting_id, on, 60, "video", ["goals"], on), AT)


def test_match_starts_preparing_and_groups_have_several_mentees() -> None:
    r = started("group", ("a", "b", "c"))
    assert r.phase == "preparing" and r.parties == ["mentor-1", "a", "b", "c"]
    with pytest.raises(InvalidCommand, match="exactly one mentee"):
        Relationship("x").start("one_to_one", "p1", ["p2", "p3"], "m", DAY0)
    with pytest.raises(InvalidCommand, match="no mentor") as refused:
        Relationship("x").start("peer", "p1", ["p2", "p3"], "m", DAY0)
    assert refused.value.field == "mentor_id"
    with pytest.raises(InvalidCommand, match="2 to 20 members") as refused:
        Relationship("x").start("peer", None, ["p2"], "m", DAY0)
    assert refused.value.field == "mentee_ids"
    with pytest.raises(RelationshipRuleViolation, match="already started"):
        r.start("group", "mentor-1", ["a"], "match-1", DAY0)


def test_agreement_is_concluded_only_when_every_party_signed() -> None:
    r = started()
    draft = AgreementDraft.propose(None, "rel-1", terms(cadence_weeks_min=4, cadence_weeks_max=6), "mentee-1", DAY0)
    draft.sign("mentor-1", 1, DAY0, confidentiality_accepted=True, no_fault_acknowledged=True)
    assert r.conclude_agreement(draft, DAY0) == []
    with pytest.raises(RelationshipRuleViolation, match="mentor-1 has already signed revision 1"):
        draft.sign("mentor-1", 1, DAY0, confidentiality_accepted=True, no_fault_acknowledged=True)
    with pytest.raises(InvalidCommand) as refused:
        draft.sign("mentee-1", 1, DAY0, confidentiality_accepted=False, no_fault_acknowledged=True)
    assert refused.value.field == "confidentiality_accepted"
    draft.sign("mentee-1", 1, DAY0, confidentiality_accepted=True, no_fault_acknowledged=True)
    [event] = r.conclude_agreement(draft, DAY0)
    assert isinstance(event, AgreementSigned)
    assert event.signed_by == ["mentee-1", "mentor-1"] and event.cadence_weeks_max == 6
    assert event.development_plan_attached and event.review_due_on == DAY0 + timedelta(days=365)
    r.apply(event, AT)
    assert r.phase == "enabling" and "g1" in r.goals


def test_a_new_revision_drops_earlier_signatures_and_stale_revisions_cannot_be_signed() -> None:
    first = AgreementDraft.propose(None, "rel-1", terms(), "mentor-1", DAY0)
    first.sign("mentor-1", 1, DAY0, confidentiality_accepted=True, no_fault_acknowledged=True)
    second = AgreementDraft.propose(first, "rel-1", terms(format="phone"), "mentee-1", DAY0)
    assert second.revision == 2 and second.signatures == {}
    with pytest.raises(RelationshipRuleViolation, match="revision 1 is not the current draft"):
        second.sign("mentee-1", 1, DAY0, confidentiality_accepted=True, no_fault_acknowledged=True)


def test_goals_in_the_past_are_refused_with_their_field() -> None:
    with pytest.raises(InvalidCommand) as refused:
        AgreementDraft.propose(None, "rel-1", terms(), "mentor-1", DAY0 + timedelta(days=300))
    assert refused.value.field == "goals.0.due_on"


def test_meetings_need_a_party_a_past_date_and_program_topics() -> None:
    r = signed()
    with pytest.raises(NotAParty):
        r.log_meeting("stranger", "m1", DAY0, 30, "video", [], DAY0)
    with pytest.raises(InvalidCommand) as refused:
        r.log_meeting("mentor-1", "m1", DAY0, 30, "video", ["gossip"], DAY0)
    assert refused.value.field == "topic_tags"
    with pytest.raises(InvalidCommand, match="not ahead"):
        r.log_meeting("mentor-1", "m1", DAY0 + timedelta(days=1), 30, "video", [], DAY0)
    [event] = r.log_meeting("mentor-1", "m1", DAY0, 30, "phone", ["negotiation", "funding"], DAY0)
    assert isinstance(event, MeetingLogged) and not hasattr(event, "notes")


def test_goal_progress_until_achieved_then_final() -> None:
    r = signed()
    [event] = r.progress_goal("mentee-1", "g1", "achieved", 80)
    assert isinstance(event, GoalProgressed) and event.progress_percent == 100
    r.apply(event, AT)
    with pytest.raises(RelationshipRuleViolation, match="already achieved"):
        r.progress_goal("mentee-1", "g1", "dropped", 0)
    goal = SmartGoal(goal_id="g2", text="Publish", measure="accepted paper", due_on=DAY0 + timedelta(days=90))
    r.apply_all(r.set_goal("mentor-1", None, goal, DAY0), AT)
    assert r.goals["g2"].mentee_id == "mentee-1"


def test_lagging_once_per_lapse_and_cleared_by_a_meeting() -> None:
    r = signed()  # cadence 6-8 weeks
    lagging_on = DAY0 + timedelta(weeks=8) + GRACE
    assert r.lagging_on(GRACE) == lagging_on
    assert r.check_cadence(lagging_on - timedelta(days=1), GRACE) == []
    [event] = r.check_cadence(lagging_on, GRACE)
    assert isinstance(event, RelationshipLagging) and event.last_meeting_on is None and event.days_since == 70
    r.apply(event, AT)
    assert r.check_cadence(lagging_on + timedelta(days=30), GRACE) == []
    meet(r, lagging_on + timedelta(days=30))
    assert not r.lagging and r.lagging_on(GRACE) == lagging_on + timedelta(days=30, weeks=8) + GRACE


def test_review_due_once_then_reviewed_with_next_date_within_a_year() -> None:
    r = signed()
    due = DAY0 + timedelta(days=365)
    assert r.check_review(due - timedelta(days=1)) == []
    [event] = r.check_review(due)
    assert isinstance(event, AgreementReviewDue)
    r.apply(event, AT)
    assert r.check_review(due) == []
    with pytest.raises(InvalidCommand) as refused:
        r.review("mentor-1", "continued", due, due + timedelta(days=500))
    assert refused.value.field == "next_review_due_on"
    r.apply_all(r.review("mentor-1", "revised", due), AT)
    assert r.review_due_on == due + timedelta(days=365) and not r.review_flagged


def test_old_feedback_in_the_history_is_read_and_decides_nothing() -> None:
    """The closure and review feedback is answered through the surveys now (``Survey``); a history recorded with
    the old ``FeedbackSubmitted`` still rebuilds, and the review remembers which review date it closed."""
    r = signed()
    r.apply_all(r.check_review(DAY0 + timedelta(days=365)), AT)
    old = FeedbackSubmitted(
        relationship_id="rel-1",
        survey="relationship_feedback",
        respondent_id="mentee-1",
        respondent_role="mentee",
        satisfaction=4,
        goals_met=True,
        would_recommend=True,
    )
    before = r.version
    r.apply(old, AT)
    assert r.version == before + 1 and not hasattr(r, "submit_feedback")
    due = r.review_due_on
    r.apply_all(r.review("mentor-1", "continued", DAY0 + timedelta(days=365)), AT)
    assert r.last_review_due_on == due and r.review_due_on != due


def test_closure_reasons_belong_to_who_closes() -> None:
    r = signed()
    with pytest.raises(InvalidCommand) as refused:
        r.close("mentee-1", "no_fault_mentor", DAY0, by_director=False)
    assert refused.value.field == "reason"
    with pytest.raises(InvalidCommand, match="program director"):
        r.close("mentor-1", "program_ended", DAY0, by_director=False)
    [closed] = r.close("director", "program_ended", DAY0, by_director=True, rematch_requested=True)
    assert isinstance(closed, RelationshipClosed)
    assert closed.mentor_id == "mentor-1" and closed.mentee_ids == ["mentee-1"] and closed.rematch_requested
    r.apply(closed, AT)
    with pytest.raises(RelationshipRuleViolation, match=r"was closed on .* cannot log a meeting"):
        r.log_meeting("mentee-1", "m9", DAY0, 30, "video", [], DAY0)
    with pytest.raises(RelationshipRuleViolation, match=r"already closed|was closed"):
        r.close("mentee-1", "no_fault_mentee", DAY0, by_director=False)
    assert r.lagging_on(GRACE) is None


def test_a_departing_mentor_closes_with_a_rematch_for_the_mentees() -> None:
    r = started("group", ("a", "b"))
    left, closed = r.participant_left("mentor-1", DAY0)
    assert isinstance(left, MemberLeft) and left.role == "mentor" and left.reason == "left_institution"
    assert closed.reason == "participant_left" and closed.closed_by is None and closed.rematch_requested
    assert closed.mentor_id == "mentor-1" and closed.mentee_ids == ["a", "b"]
    [only_left] = started("group", ("a", "b")).participant_left("a", DAY0)
    assert isinstance(only_left, MemberLeft) and only_left.role == "mentee"
    assert r.participant_left("stranger", DAY0) == []
    [closed_pair] = started().participant_left("mentor-1", DAY0)
    assert isinstance(closed_pair, RelationshipClosed) and closed_pair.rematch_requested


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=120), min_size=0, max_size=12),
    cadence=st.integers(min_value=1, max_value=12),
    grace_days=st.integers(min_value=0, max_value=30),
)
def test_lagging_is_flagged_exactly_once_per_lapse(gaps: list[int], cadence: int, grace_days: int) -> None:
    """Walk day by day through meetings ``gaps`` days apart, checking the cadence every day."""
    grace = timedelta(days=grace_days)
    r = signed(cadence_weeks_min=1, cadence_weeks_max=cadence)
    meeting_days = set()
    day = DAY0
    for gap in gaps:
        day += timedelta(days=gap)
        meeting_days.add(day)
    end = day + timedelta(weeks=cadence) + grace + timedelta(days=3)
    flags, expected, last, flagged = 0, 0, DAY0, False
    today = DAY0
    while today <= end:
        if today in meeting_days:
            meet(r, today, f"m{today}")
            last, flagged = today, False
        events = r.check_cadence(today, grace)
        r.apply_all(events, AT)
        flags += len(events)
        if not flagged and (today - last) >= timedelta(weeks=cadence) + grace:
            expected, flagged = expected + 1, True
        assert r.lagging == flagged
        today += timedelta(days=1)
    assert flags == expected >= 1


def decide(r: Relationship, command: str, i: int, today: date) -> list:
    if command == "meet":
        return r.log_meeting("mentor-1", f"m{i}", today, 45, "video", ["goals"], today)
    if command == "goal":
        return r.progress_goal("mentee-1", "g1", "in_progress", i)
    if command == "review":
        return r.review("mentor-1", "continued", today)
    if command == "close":
        return r.close("mentee-1", "no_fault_mentee", today, by_director=False)
    return r.participant_left("mentor-1", today)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["meet", "goal", "review", "close", "left"]), max_size=15))
def test_replaying_decided_events_rebuilds_the_same_state(commands: list[str]) -> None:
    r = Relationship("rel-1")
    history = r.start("one_to_one", "mentor-1", ["mentee-1"], "match-1", DAY0)
    r.apply_all(history, AT)
    draft = AgreementDraft.propose(None, "rel-1", terms(), "mentor-1", DAY0)
    for party in r.parties:
        draft.sign(party, 1, DAY0, confidentiality_accepted=True, no_fault_acknowledged=True)
    concluded = r.conclude_agreement(draft, DAY0)
    r.apply_all(concluded, AT)
    history += concluded
    for i, command in enumerate(commands):
        today = DAY0 + timedelta(days=i)
        try:
            events = decide(r, command, i, today)
        except (RelationshipRuleViolation, InvalidCommand):
            continue
        r.apply_all(events, AT)
        history.extend(events)
    rebuilt = Relationship.rebuild("rel-1", [(event, AT) for event in history])
    assert rebuilt == r and rebuilt.version == len(history) and rebuilt.exists
    assert sum(isinstance(e, RelationshipClosed) for e in history) <= 1
