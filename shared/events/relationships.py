"""Events published by the relationships service on ``relationships.events``; subject = relationship id."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.events.base import Event
from shared.events.profiles import MeetingFormat

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
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
    """Its mentees are the relationship's data subjects: goals agreed later are sealed with their keys."""

    data_subjects: ClassVar[tuple[str, ...]] = ("mentee_ids",)
    model: Literal["one_to_one", "group", "peer"]
    mentor_id: Id = Field(
        description="For peer mentoring, the peer in the mentor role", json_schema_extra={"person_id": True}
    )
    mentee_ids: list[Id] = Field(
        min_length=1, max_length=20, json_schema_extra={"uniqueItems": True, "person_id": True}
    )
    match_id: Id
    started_on: date

    @model_validator(mode="after")
    def _mentees_fit_model(self) -> RelationshipStarted:
        if len(set(self.mentee_ids)) != len(self.mentee_ids):
            raise ValueError("mentees must be distinct")
        if self.mentor_id in self.mentee_ids:
            raise ValueError("the mentor cannot also be a mentee of the same relationship")
        if self.model != "group" and len(self.mentee_ids) != 1:
            raise ValueError(f"a {self.model} relationship has exactly one mentee")
        return self


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

    Deliberately has no notes field: meeting notes are private to the pair, stay in
    the relationships database, and never travel on the bus or reach analysts.
    """

    meeting_id: Id
    held_on: date
    duration_minutes: int = Field(ge=1, le=600)
    format: MeetingFormat
    topic_tags: list[Tag] = Field(default_factory=list, max_length=10)


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


class RelationshipClosed(_RelationshipsEvent):
    reason: ClosureReason
    closed_by: Id | None = Field(
        default=None, description="None when closed by the system", json_schema_extra={"person_id": True}
    )
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
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
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
    mentee_ids: list[Id] = Field(min_length=1, max_length=20, json_schema_extra={"person_id": True})
