"""Events published by the relationships service on ``relationships.events``; subject = relationship id."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.events.base import Event, Upcaster
from shared.events.profiles import MeetingFormat

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
DEFAULT_PROGRAM = "default"
PEER_MIN = 2
ClosureReason = Literal[
    "objectives_achieved", "no_fault_mentor", "no_fault_mentee", "participant_left", "program_ended"
]


class SmartGoal(BaseModel):
    """An objective of the mentoring agreement: specific, measurable, time-bound."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    goal_id: Id
    text: str = Field(min_length=1, max_length=1000, json_schema_extra={"personal": True})
    measure: str = Field(
        min_length=1, max_length=500, description="How achievement is recognised", json_schema_extra={"personal": True}
    )
    due_on: date


class _RelationshipsEvent(Event):
    owner: ClassVar[str] = "relationships"

    relationship_id: Id


class RelationshipStarted(_RelationshipsEvent):
    """Its mentees are the relationship's data subjects: goals agreed later are sealed with their keys.

    Version 2 (issue 17): ``program_id`` (version 1: ``"default"``), ``co_mentor_ids`` (a group's further
    mentors) and ``mentor_id`` None for a peer circle, whose members are all in ``mentee_ids``.  A version-1
    peer relationship named one peer ``mentor_id``: it is upcast into a circle of both members.
    """

    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Upcaster]] = {1: lambda data: _started_v1_to_v2(data)}
    data_subjects: ClassVar[tuple[str, ...]] = ("mentee_ids",)
    model: Literal["one_to_one", "group", "peer"]
    program_id: Id = Field(default=DEFAULT_PROGRAM, description="The program the relationship belongs to")
    mentor_id: Id | None = Field(
        default=None,
        description="The (lead) mentor; None only for a peer circle",
        json_schema_extra={"person_id": True},
    )
    co_mentor_ids: list[Id] = Field(
        default_factory=list,
        max_length=20,
        description="A group's further mentors",
        json_schema_extra={"uniqueItems": True, "person_id": True},
    )
    mentee_ids: list[Id] = Field(
        min_length=1,
        max_length=20,
        description="The mentees (one-to-one: one; group: 1-20); a peer circle's members (2-20)",
        json_schema_extra={"uniqueItems": True, "person_id": True},
    )
    match_id: Id = Field(description="The MatchApproved's or the GroupFormed's match id")
    started_on: date

    @model_validator(mode="after")
    def _parties_fit_model(self) -> RelationshipStarted:
        mentors = [m for m in (self.mentor_id, *self.co_mentor_ids) if m is not None]
        if len(set(self.mentee_ids)) != len(self.mentee_ids):
            raise ValueError("mentees must be distinct")
        if len(set(mentors)) != len(mentors):
            raise ValueError("mentors must be distinct")
        if set(mentors) & set(self.mentee_ids):
            raise ValueError("the mentor cannot also be a mentee of the same relationship")
        if self.model == "peer":
            if mentors:
                raise ValueError("a peer circle has no mentor: its members are all in mentee_ids")
            if len(self.mentee_ids) < PEER_MIN:
                raise ValueError(f"a peer circle has {PEER_MIN} to 20 members")
            return self
        if self.mentor_id is None:
            raise ValueError(f"a {self.model} relationship has a mentor")
        if self.model == "one_to_one":
            if len(self.mentee_ids) != 1:
                raise ValueError("a one_to_one relationship has exactly one mentee")
            if self.co_mentor_ids:
                raise ValueError("a one_to_one relationship has one mentor")
        return self


def _started_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    upcast = {**data, "program_id": DEFAULT_PROGRAM, "co_mentor_ids": []}
    if data.get("model") == "peer" and data.get("mentor_id"):
        upcast["mentor_id"] = None
        upcast["mentee_ids"] = [data["mentor_id"], *data.get("mentee_ids", [])]
    return upcast


class AgreementSigned(_RelationshipsEvent):
    """The mentoring agreement that moves the relationship from negotiating to enabling."""

    cadence_weeks_min: int = Field(default=6, ge=1, le=52, description="Meet at least every N..M weeks")
    cadence_weeks_max: int = Field(default=8, ge=1, le=52)
    format: MeetingFormat
    confidentiality_accepted: bool
    no_fault_termination_acknowledged: bool
    goals: list[SmartGoal] = Field(default_factory=list, max_length=20)
    development_plan_attached: bool = Field(default=False, description="An individual development plan exists")
    signed_by: list[Id] = Field(
        min_length=2, description="Every party of the relationship", json_schema_extra={"person_id": True}
    )
    signed_on: date
    review_due_on: date = Field(description="Re-evaluated at least annually")

    @model_validator(mode="after")
    def _coherent(self) -> AgreementSigned:
        if self.cadence_weeks_min > self.cadence_weeks_max:
            raise ValueError("cadence_weeks_min exceeds cadence_weeks_max")
        if self.review_due_on <= self.signed_on:
            raise ValueError("the review falls due after signing")
        if len({goal.goal_id for goal in self.goals}) != len(self.goals):
            raise ValueError("goal ids must be distinct")
        return self


class GoalSet(_RelationshipsEvent):
    data_subjects: ClassVar[tuple[str, ...]] = ("mentee_id",)

    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    goal: SmartGoal


class GoalProgressed(_RelationshipsEvent):
    goal_id: Id
    status: Literal["in_progress", "achieved", "dropped"]
    progress_percent: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _achieved_is_complete(self) -> GoalProgressed:
        if self.status == "achieved" and self.progress_percent != 100:
            raise ValueError("an achieved goal is at 100 percent")
        return self


class MeetingLogged(_RelationshipsEvent):
    """A meeting took place.

    Deliberately has no notes field: meeting notes are private to the parties, stay in
    the relationships database, and never travel on the bus or reach analysts.

    Version 2 (issue 17): ``attendee_ids`` (a group meeting's attendance); version 1 is upcast with none.
    """

    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Upcaster]] = {1: lambda data: {**data, "attendee_ids": []}}

    meeting_id: Id
    held_on: date
    duration_minutes: int = Field(ge=1, le=600)
    format: MeetingFormat
    topic_tags: list[Tag] = Field(default_factory=list, max_length=10)
    attendee_ids: list[Id] = Field(
        default_factory=list,
        max_length=40,
        description="The parties who attended (version 2); empty: not recorded (version 1, a pair's meeting)",
        json_schema_extra={"uniqueItems": True, "person_id": True},
    )


class RelationshipLagging(_RelationshipsEvent):
    """No meeting within the agreed cadence plus the grace period."""

    last_meeting_on: date | None = Field(description="None when the pair has never met")
    days_since: int = Field(ge=0, description="Days since the last meeting, or since the start")
    cadence_weeks_max: int = Field(ge=1, le=52)


class AgreementReviewDue(_RelationshipsEvent):
    due_on: date


class AgreementReviewed(_RelationshipsEvent):
    reviewed_on: date
    outcome: Literal["continued", "revised", "closing"]
    next_review_due_on: date | None = Field(default=None, description="None when the outcome is closing")

    @model_validator(mode="after")
    def _next_review(self) -> AgreementReviewed:
        if self.outcome != "closing" and self.next_review_due_on is None:
            raise ValueError("a continuing agreement has a next review date")
        if self.next_review_due_on is not None and self.next_review_due_on <= self.reviewed_on:
            raise ValueError("the next review falls due after this one")
        return self


class FeedbackSubmitted(_RelationshipsEvent):
    """A survey answer. Free-text comments stay with the relationships service; only scores travel."""

    relationship_id: Id | None = Field(description="None for the end-of-training survey")
    survey: Literal["relationship_feedback", "end_of_training"]
    respondent_id: Id = Field(json_schema_extra={"person_id": True})
    respondent_role: Literal["mentor", "mentee"]
    satisfaction: int = Field(ge=1, le=5, description="1 = very dissatisfied, 5 = very satisfied")
    goals_met: bool
    would_recommend: bool

    @model_validator(mode="after")
    def _feedback_names_relationship(self) -> FeedbackSubmitted:
        if self.survey == "relationship_feedback" and self.relationship_id is None:
            raise ValueError("relationship feedback names its relationship")
        return self


class MemberLeft(_RelationshipsEvent):
    """A mentor, mentee or peer left a group or a peer circle, which goes on without them (unless fewer than the
    model's minimum remain: then ``RelationshipClosed`` follows, reason ``participant_left``)."""

    participant_id: Id = Field(json_schema_extra={"person_id": True})
    role: Literal["mentor", "mentee", "peer"]
    reason: Literal["withdrew", "left_institution", "erased"]
    by: Id | None = Field(
        default=None, description="Who recorded it; None when the system did", json_schema_extra={"person_id": True}
    )
    left_on: date


class RelationshipClosed(_RelationshipsEvent):
    """Version 2 (issue 17): ``mentor_id`` None for a peer circle, ``co_mentor_ids`` and ``program_id`` (version 1:
    none and ``"default"``).  The parties are everyone the relationship started with, including members who left
    before (each also in a ``MemberLeft``)."""

    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Upcaster]] = {
        1: lambda data: {**data, "program_id": DEFAULT_PROGRAM, "co_mentor_ids": []}
    }
    reason: ClosureReason
    closed_by: Id | None = Field(
        default=None, description="None when closed by the system", json_schema_extra={"person_id": True}
    )
    program_id: Id = Field(default=DEFAULT_PROGRAM)
    mentor_id: Id | None = Field(
        default=None, description="The (lead) mentor; None for a peer circle", json_schema_extra={"person_id": True}
    )
    co_mentor_ids: list[Id] = Field(default_factory=list, max_length=20, json_schema_extra={"person_id": True})
    mentee_ids: list[Id] = Field(min_length=1, max_length=20, json_schema_extra={"person_id": True})
    rematch_requested: bool = Field(description="The director should arrange another mentor")
    closed_on: date


# --- scheduled meetings: one stream per meeting (stream id = meeting id) --------------------------------------------


def _aware(moments: list[datetime]) -> None:
    if any(m.tzinfo is None or m.utcoffset() is None for m in moments):
        raise ValueError("times carry their UTC offset")


class _MeetingEvent(_RelationshipsEvent):
    """An event of a scheduled meeting's own stream; ``relationship_id`` names its relationship."""

    meeting_id: Id


class MeetingProposed(_MeetingEvent):
    """A party proposes 1-5 times for a meeting with an agenda (goals and topics planned ahead)."""

    proposed_by: Id = Field(json_schema_extra={"person_id": True})
    candidates: list[datetime] = Field(min_length=1, max_length=5, description="Start times, with their UTC offset")
    duration_minutes: int = Field(ge=5, le=600)
    agenda_goals: list[Id] = Field(default_factory=list, max_length=20, description="Goals to talk about")
    agenda_topics: list[Tag] = Field(default_factory=list, max_length=10, description="Program topics planned")
    format: MeetingFormat = "video"

    @model_validator(mode="after")
    def _times(self) -> MeetingProposed:
        _aware(self.candidates)
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("candidate times are distinct")
        return self


class MeetingAccepted(_MeetingEvent):
    """The other party chose one of the proposed times: the meeting is on (its invitation's ``sequence``)."""

    accepted_by: Id = Field(json_schema_extra={"person_id": True})
    organizer_id: Id = Field(description="Who proposed the time", json_schema_extra={"person_id": True})
    starts_at: datetime
    ends_at: datetime
    sequence: int = Field(ge=0, description="iCalendar SEQUENCE: rises with every change of the meeting")
    agenda_goals: list[Id] = Field(default_factory=list, max_length=20)
    agenda_topics: list[Tag] = Field(default_factory=list, max_length=10)
    format: MeetingFormat = "video"

    @model_validator(mode="after")
    def _times(self) -> MeetingAccepted:
        _aware([self.starts_at, self.ends_at])
        if self.ends_at <= self.starts_at:
            raise ValueError("a meeting ends after it starts")
        return self


class MeetingRescheduled(_MeetingEvent):
    """A party proposes new times for the meeting (a new proposal; the invitation's ``sequence`` rises)."""

    proposed_by: Id = Field(json_schema_extra={"person_id": True})
    organizer_id: Id = Field(json_schema_extra={"person_id": True})
    candidates: list[datetime] = Field(min_length=1, max_length=5)
    duration_minutes: int = Field(ge=5, le=600)
    sequence: int = Field(ge=0)
    agenda_goals: list[Id] = Field(default_factory=list, max_length=20)
    agenda_topics: list[Tag] = Field(default_factory=list, max_length=10)
    format: MeetingFormat = "video"

    @model_validator(mode="after")
    def _times(self) -> MeetingRescheduled:
        _aware(self.candidates)
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("candidate times are distinct")
        return self


class MeetingCancelled(_MeetingEvent):
    cancelled_by: Id = Field(json_schema_extra={"person_id": True})
    organizer_id: Id = Field(json_schema_extra={"person_id": True})
    sequence: int = Field(ge=0)
    starts_at: datetime | None = Field(default=None, description="The time it was set for, if one was accepted")
    ends_at: datetime | None = None


class MeetingHeld(_MeetingEvent):
    """ "Did it happen?" answered yes: the meeting is also logged on the relationship (``MeetingLogged``)."""

    confirmed_by: Id = Field(json_schema_extra={"person_id": True})
    held_on: date
    duration_minutes: int = Field(ge=1, le=600)


# --- nudges and inactivity -------------------------------------------------------------------------------------------


class MeetingNudgeDue(_RelationshipsEvent):
    """Nothing is scheduled before the next meeting falls due: both parties are nudged to schedule one (once per
    cadence period)."""

    next_meeting_due_on: date
    lagging_on: date = Field(description="The day the pair would count as lagging")
    cadence_weeks_max: int = Field(ge=1, le=52)


class ReengagementNudged(_RelationshipsEvent):
    """Lagging for the program's inactivity period: both parties are asked to re-engage."""

    lagging_since: date
    inactivity_days: int = Field(ge=1, le=3650)


class RelationshipInactive(_RelationshipsEvent):
    """Still no meeting a further period after the re-engagement nudge: the director is told, and may close it."""

    lagging_since: date
    last_meeting_on: date | None = None
    mentor_id: Id | None = Field(
        default=None, description="None for a peer circle", json_schema_extra={"person_id": True}
    )
    co_mentor_ids: list[Id] = Field(default_factory=list, max_length=20, json_schema_extra={"person_id": True})
    mentee_ids: list[Id] = Field(min_length=1, max_length=20, json_schema_extra={"person_id": True})


# --- Surveys (issue 18) -------------------------------------------------------------------------------------------

SurveyKind = Literal["pulse", "mid_point", "annual_review", "closure", "end_of_training"]
SURVEY_KINDS: tuple[str, ...] = ("pulse", "mid_point", "annual_review", "closure", "end_of_training")


class _SurveyEvent(Event):
    """Subject = the survey id (``survey_id``)."""

    owner: ClassVar[str] = "relationships"

    survey_id: Id
    kind: SurveyKind
    program_id: Id = DEFAULT_PROGRAM
    relationship_id: Id | None = Field(default=None, description="None for the end-of-training survey")


class SurveyOpened(_SurveyEvent):
    """A survey opened for its respondents (analytics counts response rates from it)."""

    respondent_ids: list[Id] = Field(
        min_length=1,
        max_length=64,
        description="Who is asked (a relationship's parties: up to 41 in a group)",
        json_schema_extra={"uniqueItems": True, "person_id": True},
    )
    opened_on: date
    expires_on: date
    occasion: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="What opened it: a meeting id, the review date, 'closure', 'training'"
    )


class SurveyAnswered(_SurveyEvent):
    """One respondent's answers: scale scores and choices only; free-text answers stay sealed in relationships."""

    respondent_id: Id = Field(json_schema_extra={"person_id": True})
    respondent_role: Literal["mentor", "mentee", "peer"]
    answered_on: date
    scores: dict[Id, Annotated[int, Field(ge=1, le=5)]] = Field(default_factory=dict, max_length=50)
    choices: dict[Id, Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=dict, max_length=50
    )
