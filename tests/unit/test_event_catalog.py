from __future__ import annotations

from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import shared.events  # noqa: F401  (loads the catalog)
from shared.events import Event, all_event_classes, base, decode, event_class
from shared.events.catalog import catalog_events
from shared.events.matching import RequestRanked

pytestmark = pytest.mark.unit

NOW = "2025-03-01T09:30:00+00:00"
PROFILE = {"biography": "Cardiologist.", "specialty": "cardiology", "career_stage": "senior"}
WORKER = {
    "employee_id": "E100",
    "legal_name": "Ada Lovelace",
    "work_email": "ada@example.edu",
    "title": "Assistant Professor",
    "job_function": "faculty",
    "department_id": "D7",
    "department_name": "Medicine",
    "country": "US",
    "original_hire_date": "2020-07-01",
    "last_hire_date": "2020-07-01",
}
HR = {"employee_id": "E100", "effective_date": "2025-03-01", "recorded_at": NOW}
NOTIFICATION = {
    "notification_id": "n1",
    "cause_event_id": "e1",
    "recipient_id": "p1",
    "channel": "email",
    "template": "introduction",
}
GOAL = {"goal_id": "g1", "text": "Submit a K award", "measure": "Submitted", "due_on": "2025-12-01"}

VALID: dict[str, dict[str, Any]] = {
    # profiles
    "MentorRegistered": {
        "participant_id": "p1",
        "name": "Ada",
        "email": "ada@example.edu",
        "profile": PROFILE,
        "capacity": 3,
        "demographics": {"consented": True, "gender": "woman"},
    },
    "MenteeRegistered": {"participant_id": "p2", "name": "Bo", "email": "bo@example.edu", "profile": PROFILE},
    "ProfileUpdated": {"participant_id": "p1", "changes": [{"field": "profile.interests", "old": [], "new": ["AI"]}]},
    "MentorCapacityChanged": {"participant_id": "p1", "old_capacity": 3, "new_capacity": 4},
    "MentorTrainingCompleted": {"participant_id": "p1", "kind": "workshop", "completed_on": "2025-02-01"},
    "ParticipantDeactivated": {"participant_id": "p1", "reason": "on_leave", "effective_date": "2025-03-01"},
    "ParticipantReactivated": {"participant_id": "p1", "effective_date": "2025-06-01"},
    "ParticipantErased": {"participant_id": "p1"},
    # matching
    "RequestRanked": {
        "request_id": "r1",
        "mentee_id": "p2",
        "biography": "Resident.",
        "motivation": "Research career.",
        "ranked_mentor_ids": ["p1", "p3"],
    },
    "RequestReviewed": {"request_id": "r1", "reviewer_id": "d1", "approved": True},
    "RequestForwarded": {"request_id": "r1", "mentee_id": "p2", "mentor_id": "p1", "choice_rank": 1, "respond_by": NOW},
    "MentorResponded": {"request_id": "r1", "mentor_id": "p1", "choice_rank": 1, "accepted": False, "reason": "Full"},
    "RequestExpired": {"request_id": "r1", "mentor_id": "p3", "choice_rank": 2, "respond_by": NOW},
    "MatchApproved": {
        "match_id": "m1",
        "mentee_id": "p2",
        "mentor_id": "p1",
        "mode": "director",
        "request_id": "r1",
        "choice_rank": 1,
        "time_to_match_seconds": 86400,
    },
    "RequestUnmatched": {"request_id": "r1", "mentee_id": "p2", "tried_mentor_ids": ["p1", "p3"]},
    "RequestWithdrawn": {"request_id": "r1", "mentee_id": "p2"},
    "BulkMatchProposed": {
        "run_id": "b1",
        "cohort": "2025 interns",
        "mode": "stable",
        "requested_by": "d1",
        "summary": {
            "mentees": 10,
            "mentors": 4,
            "pairs": 9,
            "unmatched_mentees": 1,
            "total_score": 6.3,
            "mean_score": 0.7,
        },
    },
    "BulkMatchCommitted": {"run_id": "b1", "committed_by": "d1", "pair_count": 9},
    "ProgramDefined": {
        "program_id": "faculty",
        "name": "Faculty career mentoring",
        "model": "one_to_one",
        "matching_mode": "director_review",
        "response_days": 7,
        "cadence_weeks_min": 2,
        "cadence_weeks_max": 6,
        "review_interval_months": 6,
        "defined_by": "d1",
    },
    "ProgramChanged": {
        "program_id": "circles",
        "name": "New-hire peer circles",
        "model": "peer",
        "matching_mode": "bulk",
        "response_days": 7,
        "cadence_weeks_min": 2,
        "cadence_weeks_max": 4,
        "review_interval_months": 3,
        "circle_size": 5,
        "changed_by": "d1",
    },
    "ParticipantEnrolled": {
        "program_id": "faculty",
        "participant_id": "p1",
        "role": "mentor",
        "capacity": 2,
        "enrolled_by": "p1",
    },
    "ParticipantUnenrolled": {"program_id": "faculty", "participant_id": "p1", "by": "d1"},
    "GroupFormed": {
        "match_id": "g1",
        "program_id": "residents",
        "model": "group",
        "mentor_ids": ["p1"],
        "mentee_ids": ["p2", "p3"],
        "formed_by": "d1",
    },
    # relationships
    "RelationshipStarted": {
        "relationship_id": "rel1",
        "model": "one_to_one",
        "mentor_id": "p1",
        "mentee_ids": ["p2"],
        "match_id": "m1",
        "started_on": "2025-03-02",
    },
    "AgreementSigned": {
        "relationship_id": "rel1",
        "format": "video",
        "confidentiality_accepted": True,
        "no_fault_termination_acknowledged": True,
        "goals": [GOAL],
        "signed_by": ["p1", "p2"],
        "signed_on": "2025-03-10",
        "review_due_on": "2026-03-10",
    },
    "GoalSet": {"relationship_id": "rel1", "mentee_id": "p2", "goal": GOAL},
    "GoalProgressed": {"relationship_id": "rel1", "goal_id": "g1", "status": "in_progress", "progress_percent": 40},
    "MeetingLogged": {
        "relationship_id": "rel1",
        "meeting_id": "mt1",
        "held_on": "2025-04-01",
        "duration_minutes": 45,
        "format": "video",
        "topic_tags": ["grants"],
    },
    "RelationshipLagging": {
        "relationship_id": "rel1",
        "last_meeting_on": "2025-04-01",
        "days_since": 70,
        "cadence_weeks_max": 8,
    },
    "AgreementReviewDue": {"relationship_id": "rel1", "due_on": "2026-03-10"},
    "AgreementReviewed": {
        "relationship_id": "rel1",
        "reviewed_on": "2026-03-01",
        "outcome": "continued",
        "next_review_due_on": "2027-03-01",
    },
    "SurveyOpened": {
        "survey_id": "s1",
        "kind": "pulse",
        "program_id": "default",
        "relationship_id": "rel1",
        "respondent_ids": ["p1", "p2"],
        "opened_on": "2026-03-01",
        "expires_on": "2026-03-31",
        "occasion": "m1",
    },
    "SurveyAnswered": {
        "survey_id": "s1",
        "kind": "pulse",
        "program_id": "default",
        "relationship_id": "rel1",
        "respondent_id": "p2",
        "respondent_role": "mentee",
        "answered_on": "2026-03-02",
        "scores": {"useful": 4},
        "choices": {"next": "yes"},
    },
    "FeedbackSubmitted": {
        "relationship_id": "rel1",
        "survey": "relationship_feedback",
        "respondent_id": "p2",
        "respondent_role": "mentee",
        "satisfaction": 5,
        "goals_met": True,
        "would_recommend": True,
    },
    "RelationshipClosed": {
        "relationship_id": "rel1",
        "reason": "no_fault_mentee",
        "mentor_id": "p1",
        "mentee_ids": ["p2"],
        "rematch_requested": True,
        "closed_on": "2026-05-01",
    },
    "MemberLeft": {
        "relationship_id": "rel1",
        "participant_id": "p2",
        "role": "mentee",
        "reason": "withdrew",
        "by": "p2",
        "left_on": "2026-04-01",
    },
    # relationships: scheduled meetings and nudges
    "MeetingProposed": {
        "relationship_id": "rel1",
        "meeting_id": "mt2",
        "proposed_by": "p1",
        "candidates": ["2025-04-08T14:00:00+02:00"],
        "duration_minutes": 60,
        "agenda_goals": ["g1"],
        "agenda_topics": ["grants"],
    },
    "MeetingAccepted": {
        "relationship_id": "rel1",
        "meeting_id": "mt2",
        "accepted_by": "p2",
        "organizer_id": "p1",
        "starts_at": "2025-04-08T14:00:00+02:00",
        "ends_at": "2025-04-08T15:00:00+02:00",
        "sequence": 0,
    },
    "MeetingRescheduled": {
        "relationship_id": "rel1",
        "meeting_id": "mt2",
        "proposed_by": "p2",
        "organizer_id": "p1",
        "candidates": ["2025-04-15T14:00:00+02:00"],
        "duration_minutes": 60,
        "sequence": 1,
    },
    "MeetingCancelled": {
        "relationship_id": "rel1",
        "meeting_id": "mt2",
        "cancelled_by": "p2",
        "organizer_id": "p1",
        "sequence": 2,
    },
    "MeetingHeld": {
        "relationship_id": "rel1",
        "meeting_id": "mt2",
        "confirmed_by": "p1",
        "held_on": "2025-04-08",
        "duration_minutes": 60,
    },
    "MeetingNudgeDue": {
        "relationship_id": "rel1",
        "next_meeting_due_on": "2025-05-27",
        "lagging_on": "2025-06-10",
        "cadence_weeks_max": 8,
    },
    "ReengagementNudged": {"relationship_id": "rel1", "lagging_since": "2025-06-10", "inactivity_days": 90},
    "RelationshipInactive": {
        "relationship_id": "rel1",
        "lagging_since": "2025-06-10",
        "mentor_id": "p1",
        "mentee_ids": ["p2"],
    },
    # notifications
    "NotificationSent": NOTIFICATION,
    "NotificationFailed": {**NOTIFICATION, "error": "550 mailbox unavailable", "attempts": 5},
    # hr
    "WorkerHired": {**HR, "worker": WORKER},
    "WorkerUpdated": {**HR, "worker": {**WORKER, "preferred_name": "Ada"}, "changed_fields": ["preferred_name"]},
    "WorkerTransferred": {**HR, "old_department_id": "D7", "new_department_id": "D8", "new_department_name": "Surgery"},
    "WorkerPromoted": {**HR, "old_title": "Assistant Professor", "new_title": "Associate Professor"},
    "WorkerOnLeave": {**HR, "leave_type": "parental", "expected_return_date": "2025-09-01"},
    "WorkerReturned": HR,
    "WorkerTerminated": {**HR, "termination_type": "retirement"},
    "HrEventRescinded": {**HR, "rescinded_event_id": "e9", "rescinded_type": "WorkerTerminated"},
}

OWNERS = {
    "profiles": [
        "MentorRegistered",
        "MenteeRegistered",
        "ProfileUpdated",
        "MentorCapacityChanged",
        "MentorTrainingCompleted",
        "ParticipantDeactivated",
        "ParticipantReactivated",
        "ParticipantErased",
    ],
    "matching": [
        "RequestRanked",
        "RequestReviewed",
        "RequestForwarded",
        "MentorResponded",
        "RequestExpired",
        "MatchApproved",
        "RequestUnmatched",
        "RequestWithdrawn",
        "BulkMatchProposed",
        "BulkMatchCommitted",
        "ProgramDefined",
        "ProgramChanged",
        "ParticipantEnrolled",
        "ParticipantUnenrolled",
        "GroupFormed",
    ],
    "relationships": [
        "RelationshipStarted",
        "AgreementSigned",
        "GoalSet",
        "GoalProgressed",
        "MeetingLogged",
        "RelationshipLagging",
        "AgreementReviewDue",
        "AgreementReviewed",
        "FeedbackSubmitted",
        "MemberLeft",
        "RelationshipClosed",
        "MeetingProposed",
        "MeetingAccepted",
        "MeetingRescheduled",
        "MeetingCancelled",
        "MeetingHeld",
        "MeetingNudgeDue",
        "ReengagementNudged",
        "RelationshipInactive",
        "SurveyOpened",
        "SurveyAnswered",
    ],
    "notifications": ["NotificationSent", "NotificationFailed"],
    "hr": [
        "WorkerHired",
        "WorkerUpdated",
        "WorkerTransferred",
        "WorkerPromoted",
        "WorkerOnLeave",
        "WorkerReturned",
        "WorkerTerminated",
        "HrEventRescinded",
    ],
}
NAMES = [name for names in OWNERS.values() for name in names]


@pytest.mark.parametrize(("owner", "name"), [(owner, name) for owner, names in OWNERS.items() for name in names])
def test_every_event_is_registered_with_its_owner(owner: str, name: str) -> None:
    assert event_class(name).owner == owner


def test_the_catalog_is_exactly_the_named_events() -> None:
    assert sorted(cls.type_name() for cls in catalog_events()) == sorted(NAMES)
    assert sorted(VALID) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_round_trips_through_json(name: str) -> None:
    cls = event_class(name)
    event = cls.model_validate(VALID[name])
    assert cls.model_validate_json(event.model_dump_json()) == event
    assert decode(name, event.model_dump(mode="json"), schema_version=cls.schema_version) == event


def _with(name: str, **changes: Any) -> dict[str, Any]:
    return {**VALID[name], **changes}


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("RequestRanked", _with("RequestRanked", ranked_mentor_ids=["a", "b", "c", "d"])),
        ("RequestRanked", _with("RequestRanked", ranked_mentor_ids=["a", "a"])),
        ("RequestRanked", _with("RequestRanked", ranked_mentor_ids=[])),
        ("RequestRanked", _with("RequestRanked", ranked_mentor_ids=["p2"])),
        ("FeedbackSubmitted", _with("FeedbackSubmitted", satisfaction=6)),
        ("FeedbackSubmitted", _with("FeedbackSubmitted", satisfaction=0)),
        ("FeedbackSubmitted", _with("FeedbackSubmitted", relationship_id=None)),
        ("RequestReviewed", _with("RequestReviewed", approved=False)),
        ("RequestReviewed", _with("RequestReviewed", approved=False, decline_reason="  ")),
        ("RequestForwarded", _with("RequestForwarded", choice_rank=4)),
        ("RequestForwarded", _with("RequestForwarded", respond_by="2025-03-01T09:30:00")),
        ("MentorRegistered", _with("MentorRegistered", capacity=21)),
        ("MentorRegistered", _with("MentorRegistered", demographics={"consented": False, "gender": "man"})),
        ("MentorCapacityChanged", _with("MentorCapacityChanged", new_capacity=3)),
        ("ProfileUpdated", _with("ProfileUpdated", changes=[])),
        ("MatchApproved", _with("MatchApproved", choice_rank=None)),
        ("MatchApproved", _with("MatchApproved", mode="bulk")),
        ("MatchApproved", _with("MatchApproved", mentor_id="p2")),
        ("RelationshipStarted", _with("RelationshipStarted", mentee_ids=["p2", "p4"])),
        ("AgreementSigned", _with("AgreementSigned", cadence_weeks_min=9)),
        ("GoalProgressed", _with("GoalProgressed", status="achieved", progress_percent=90)),
        ("MeetingLogged", _with("MeetingLogged", duration_minutes=0)),
        ("MeetingProposed", _with("MeetingProposed", candidates=[f"2025-04-0{d}T10:00:00Z" for d in range(1, 7)])),
        ("MeetingProposed", _with("MeetingProposed", candidates=["2025-04-08T14:00:00"])),
        ("MeetingAccepted", _with("MeetingAccepted", ends_at="2025-04-08T13:00:00+02:00")),
        ("ParticipantDeactivated", _with("ParticipantDeactivated", reason="bored")),
        ("WorkerHired", _with("WorkerHired", employee_id="E999")),
        ("WorkerHired", _with("WorkerHired", worker={**WORKER, "employment_status": "terminated"})),
        ("WorkerReturned", {"employee_id": "E100", "effective_date": "2025-03-01"}),
    ],
)
def test_invalid_payloads_are_rejected(name: str, payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        event_class(name).model_validate(payload)


def test_admin_and_bulk_matches_have_no_choice_rank() -> None:
    admin = _with("MatchApproved", mode="admin", request_id=None, choice_rank=None, time_to_match_seconds=None)
    bulk = {**admin, "mode": "bulk", "run_id": "b1"}
    assert event_class("MatchApproved").model_validate(admin).choice_rank is None
    assert event_class("MatchApproved").model_validate(bulk).run_id == "b1"


def test_an_unknown_field_from_a_newer_producer_is_ignored() -> None:
    event = decode("MeetingLogged", _with("MeetingLogged", mood="great"), schema_version=1)
    assert not hasattr(event, "mood")
    assert "mood" not in event.model_dump()


def test_confidential_text_never_travels() -> None:
    for name in ("MeetingLogged", "FeedbackSubmitted", "SurveyAnswered", "SurveyOpened"):
        fields = set(event_class(name).model_fields)
        assert not fields & {"notes", "note", "comment", "comments", "text", "body"}, name
    for name in ("NotificationSent", "NotificationFailed"):
        assert "body" not in event_class(name).model_fields


def test_every_hr_event_says_when_it_takes_effect_and_when_it_was_recorded() -> None:
    for name in OWNERS["hr"]:
        assert {"effective_date", "recorded_at"} <= set(event_class(name).model_fields), name


def test_an_old_version_is_upcast_on_read() -> None:
    class MentorNicknameChosenForUpcastTest(Event):
        owner: ClassVar[str] = "profiles"
        schema_version: ClassVar[int] = 2
        upcasters: ClassVar = {1: lambda data: {"participant_id": data["participant"], "nickname": data["nick"]}}

        participant_id: str
        nickname: str

    try:
        event = decode("MentorNicknameChosenForUpcastTest", {"participant": "p1", "nick": "Ada"}, schema_version=1)
        assert event == MentorNicknameChosenForUpcastTest(participant_id="p1", nickname="Ada")
        current = decode("MentorNicknameChosenForUpcastTest", event.model_dump(), schema_version=2)
        assert current == event
        assert MentorNicknameChosenForUpcastTest not in catalog_events()
    finally:
        base._registry.pop("MentorNicknameChosenForUpcastTest", None)
    assert "MentorNicknameChosenForUpcastTest" not in all_event_classes()


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=36)
prose = st.text(min_size=1, max_size=300).filter(str.strip)


@given(
    request_id=ids,
    mentee_id=ids,
    mentors=st.lists(ids, min_size=1, max_size=3, unique=True),
    biography=prose,
    motivation=prose,
)
def test_any_valid_ranked_request_survives_a_round_trip(
    request_id: str, mentee_id: str, mentors: list[str], biography: str, motivation: str
) -> None:
    mentors = [mentor for mentor in mentors if mentor != mentee_id] or [mentee_id + "x"]
    event = RequestRanked(
        request_id=request_id,
        mentee_id=mentee_id,
        biography=biography,
        motivation=motivation,
        ranked_mentor_ids=mentors,
    )
    assert RequestRanked.model_validate(event.model_dump(mode="json")) == event
    assert RequestRanked.model_validate_json(event.model_dump_json()) == event
