"""Events published by the matching service on ``matching.events``.

Subject: the request id for request events, the match id for ``MatchApproved`` and ``GroupFormed``,
the run id for bulk runs, the program id for ``ProgramDefined``/``ProgramChanged``, the enrolment id
(``uuid5(program, participant)``) for ``ParticipantEnrolled``/``ParticipantUnenrolled``.

Version 2 of ``RequestRanked``, ``MatchApproved``, ``RequestUnmatched`` and ``BulkMatchProposed`` adds
``program_id``; their upcaster turns a version-1 payload into version 2 with ``program_id = "default"`` (the one
program that existed before programs were data).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.events.base import Event

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ChoiceRank = Annotated[int, Field(ge=1, le=3, description="1 = the mentee's first choice")]
MatchMode = Literal["director", "self", "admin", "bulk"]
ProgramId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
DEFAULT_PROGRAM = "default"
"""The built-in program: exists without an event (director review, one-to-one), and every version-1 event's."""
Label = Annotated[str, StringConstraints(min_length=1, max_length=100)]


def _in_default_program(data: dict[str, Any]) -> dict[str, Any]:
    """Upcaster v1 → v2 of the events that gained ``program_id``: before programs were data, all was "default"."""
    return {**data, "program_id": DEFAULT_PROGRAM}


class _MatchingEvent(Event):
    owner: ClassVar[str] = "matching"


class RequestRanked(_MatchingEvent):
    """A mentee asks for mentorship, naming up to three mentors in order of preference.

    Its mentee is the request's data subject: later events' personal fields (a decline reason, a mentor's
    reason) are sealed with the mentee's key."""

    data_subjects: ClassVar[tuple[str, ...]] = ("mentee_id",)
    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Any]] = {1: _in_default_program}

    request_id: Id
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    program_id: ProgramId = Field(default=DEFAULT_PROGRAM, description="The program the request is made in")
    biography: str = Field(min_length=1, max_length=4000, json_schema_extra={"personal": True})
    motivation: str = Field(
        min_length=1,
        max_length=4000,
        description="Why the mentee seeks mentorship",
        json_schema_extra={"personal": True},
    )
    ranked_mentor_ids: list[Id] = Field(
        min_length=1,
        max_length=3,
        description="First choice first",
        json_schema_extra={"uniqueItems": True, "person_id": True},
    )

    @model_validator(mode="after")
    def _distinct_mentors(self) -> RequestRanked:
        if len(set(self.ranked_mentor_ids)) != len(self.ranked_mentor_ids):
            raise ValueError("ranked mentors must be distinct")
        if self.mentee_id in self.ranked_mentor_ids:
            raise ValueError("a mentee cannot rank themselves")
        return self


class RequestReviewed(_MatchingEvent):
    request_id: Id
    reviewer_id: Id = Field(description="The program director who reviewed it", json_schema_extra={"person_id": True})
    approved: bool
    decline_reason: str | None = Field(default=None, max_length=2000, json_schema_extra={"personal": True})

    @model_validator(mode="after")
    def _reason_iff_declined(self) -> RequestReviewed:
        if not self.approved and not (self.decline_reason and self.decline_reason.strip()):
            raise ValueError("a declined request needs a reason")
        if self.approved and self.decline_reason is not None:
            raise ValueError("an approved request has no decline reason")
        return self


class RequestForwarded(_MatchingEvent):
    request_id: Id
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
    choice_rank: ChoiceRank
    respond_by: AwareDatetime = Field(description="Deadline; a missed one passes the request on")


class MentorResponded(_MatchingEvent):
    request_id: Id
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
    choice_rank: ChoiceRank
    accepted: bool
    reason: str | None = Field(default=None, max_length=2000, json_schema_extra={"personal": True})


class RequestExpired(_MatchingEvent):
    """The mentor let the response deadline pass; counts as a decline."""

    request_id: Id
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
    choice_rank: ChoiceRank
    respond_by: AwareDatetime


class MatchApproved(_MatchingEvent):
    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Any]] = {1: _in_default_program}

    match_id: Id
    program_id: ProgramId = Field(default=DEFAULT_PROGRAM, description="The program the pair is matched in")
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
    mode: MatchMode
    request_id: Id | None = Field(default=None, description="None when no request preceded the match")
    choice_rank: ChoiceRank | None = Field(default=None, description="None for admin and bulk matches")
    run_id: Id | None = Field(default=None, description="The bulk run, for bulk matches only")
    approved_by: Id | None = Field(
        default=None, description="Director or admin who approved, if any", json_schema_extra={"person_id": True}
    )
    time_to_match_seconds: float | None = Field(
        default=None, ge=0, description="From request submission to match; None without a request"
    )

    @model_validator(mode="after")
    def _consistent_with_mode(self) -> MatchApproved:
        if self.mentee_id == self.mentor_id:
            raise ValueError("a participant cannot mentor themselves")
        if self.mode == "director" and (self.request_id is None or self.choice_rank is None):
            raise ValueError("a director-flow match names its request and choice rank")
        if self.mode in ("admin", "bulk") and self.choice_rank is not None:
            raise ValueError("admin and bulk matches have no choice rank")
        if (self.mode == "bulk") != (self.run_id is not None):
            raise ValueError("run_id is given exactly for bulk matches")
        return self


class RequestUnmatched(_MatchingEvent):
    """Every ranked mentor declined or let the deadline pass; back to the director for an admin match."""

    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Any]] = {1: _in_default_program}

    request_id: Id
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    program_id: ProgramId = Field(default=DEFAULT_PROGRAM)
    tried_mentor_ids: list[Id] = Field(min_length=1, max_length=3, json_schema_extra={"person_id": True})


class RequestWithdrawn(_MatchingEvent):
    data_subjects: ClassVar[tuple[str, ...]] = ("mentee_id",)

    request_id: Id
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    reason: str | None = Field(default=None, max_length=2000, json_schema_extra={"personal": True})


class BulkMatchSummary(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    mentees: int = Field(ge=0, description="Mentees in the cohort (a peer run: the peers)")
    mentors: int = Field(ge=0, description="Mentors with spare capacity")
    pairs: int = Field(ge=0)
    unmatched_mentees: int = Field(ge=0)
    total_score: float = Field(ge=0)
    mean_score: float = Field(ge=0, le=1, description="Mean compatibility of the proposed pairs, 0-1")
    circles: int = Field(default=0, ge=0, description="Peer circles proposed (peer programs only)")


class BulkMatchProposed(_MatchingEvent):
    """A cohort assignment is ready for admin review; the pairs stay in the matching database."""

    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Any]] = {1: _in_default_program}

    run_id: Id
    program_id: ProgramId = Field(default=DEFAULT_PROGRAM)
    cohort: str = Field(min_length=1, max_length=200)
    mode: Literal["optimal", "stable"] = Field(
        description="optimal: maximum total compatibility; stable: no blocking mentee-mentor pair"
    )
    requested_by: Id = Field(json_schema_extra={"person_id": True})
    summary: BulkMatchSummary


class BulkMatchCommitted(_MatchingEvent):
    """The admin accepted the run; each pair follows as its own MatchApproved (mode bulk)."""

    run_id: Id
    committed_by: Id = Field(json_schema_extra={"person_id": True})
    pair_count: int = Field(ge=0)
    overridden_count: int = Field(default=0, ge=0, description="Pairs the admin changed before committing")


# --- programs, enrolments and groups (issue 17) --------------------------------------------------------------


class ProgramEligibility(BaseModel):
    """Who may enrol as a mentee or peer; an empty list is no restriction."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    departments: list[Label] = Field(default_factory=list, max_length=100)
    career_stages: list[Label] = Field(default_factory=list, max_length=20)
    priority_groups: list[Label] = Field(
        default_factory=list, max_length=50, description="In priority order: the review queue serves them first"
    )
    hr_attributes: dict[Label, list[Label]] = Field(
        default_factory=dict, max_length=20, description="HR attribute (job_function, location, ...) → allowed values"
    )


class ProgramWeights(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    specialty: int = Field(default=30, ge=0, le=1000)
    interests: int = Field(default=25, ge=0, le=1000)
    career_stage: int = Field(default=20, ge=0, le=1000)
    language: int = Field(default=10, ge=0, le=1000)
    time_zone: int = Field(default=10, ge=0, le=1000)
    preferences: int = Field(default=5, ge=0, le=1000)


class _ProgramSettings(_MatchingEvent):
    program_id: ProgramId
    name: str = Field(min_length=1, max_length=200)
    model: Literal["one_to_one", "group", "peer"]
    starts_on: date | None = None
    ends_on: date | None = Field(default=None, description="None: open-ended")
    eligibility: ProgramEligibility = Field(default_factory=ProgramEligibility)
    matching_mode: Literal["director_review", "self_match", "admin", "bulk"]
    response_days: int = Field(ge=1, le=90)
    weights: ProgramWeights = Field(default_factory=ProgramWeights)
    cadence_weeks_min: int = Field(ge=1, le=52)
    cadence_weeks_max: int = Field(ge=1, le=52)
    review_interval_months: int = Field(ge=1, le=24)
    group_size_max: int | None = Field(default=None, ge=1, le=20, description="Group model only")
    circle_size: int | None = Field(default=None, ge=2, le=20, description="Peer model only")
    inactivity_days: int = Field(default=90, ge=1, le=365)
    surveys: list[Label] = Field(default_factory=list, max_length=20)
    priority_policy: Literal["first", "weight"] = "first"


class ProgramDefined(_ProgramSettings):
    """The director defines a program (the built-in "default" program exists without one)."""

    defined_by: Id = Field(json_schema_extra={"person_id": True})


class ProgramChanged(_ProgramSettings):
    """The program's full settings after the change."""

    changed_by: Id = Field(json_schema_extra={"person_id": True})


class ParticipantEnrolled(_MatchingEvent):
    program_id: ProgramId
    participant_id: Id = Field(json_schema_extra={"person_id": True})
    role: Literal["mentor", "mentee", "peer"]
    capacity: int | None = Field(
        default=None, ge=0, le=100, description="A mentor's capacity in this program; None: their shared capacity"
    )
    enrolled_by: Id = Field(json_schema_extra={"person_id": True})

    @model_validator(mode="after")
    def _capacity_for_mentors(self) -> ParticipantEnrolled:
        if self.capacity is not None and self.role != "mentor":
            raise ValueError("only a mentor has a capacity")
        return self


class ParticipantUnenrolled(_MatchingEvent):
    program_id: ProgramId
    participant_id: Id = Field(json_schema_extra={"person_id": True})
    by: Id = Field(json_schema_extra={"person_id": True})


class GroupFormed(_MatchingEvent):
    """A mentoring group (one or more mentors, 1-20 mentees) or a peer circle (no mentor, 2-20 members)."""

    match_id: Id
    program_id: ProgramId
    model: Literal["group", "peer"]
    mentor_ids: list[Id] = Field(default_factory=list, max_length=20, json_schema_extra={"person_id": True})
    mentee_ids: list[Id] = Field(min_length=1, max_length=20, json_schema_extra={"person_id": True})
    formed_by: Id | None = Field(default=None, json_schema_extra={"person_id": True})
    run_id: Id | None = Field(default=None, description="The bulk run that proposed the circle")

    @model_validator(mode="after")
    def _shape(self) -> GroupFormed:
        if len(set(self.mentor_ids)) != len(self.mentor_ids) or len(set(self.mentee_ids)) != len(self.mentee_ids):
            raise ValueError("members are distinct")
        if set(self.mentor_ids) & set(self.mentee_ids):
            raise ValueError("nobody is both a mentor and a mentee of one group")
        if self.model == "group" and not self.mentor_ids:
            raise ValueError("a group has at least one mentor")
        if self.model == "peer" and (self.mentor_ids or len(self.mentee_ids) < 2):
            raise ValueError("a peer circle has no mentor and at least two members")
        return self
