"""Request bodies of the HTTP API; FastAPI's 422 names the offending field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.fields import MAX_BIOGRAPHY, MAX_REASON, Biography, Day, Id, Name, Reason, Tag

ProgramId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
"""A program's id: 1-40 lowercase letters, digits or dashes, starting with a letter or digit."""

MAX_COHORT = 20_000


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitRequest(_Body):
    biography: Biography = Field(description=f"Up to {MAX_BIOGRAPHY} characters")
    motivation: Biography = Field(description=f"Why the mentee seeks mentorship; up to {MAX_BIOGRAPHY} characters")
    ranked_mentor_ids: list[Id] = Field(min_length=1, max_length=3, description="First choice first, distinct")
    program_id: ProgramId = Field(default="default", description="The program the request is made in")


class Review(_Body):
    approved: bool
    decline_reason: Reason | None = Field(default=None, description=f"Required when declining; up to {MAX_REASON}")


class Response(_Body):
    accepted: bool
    reason: Reason | None = Field(default=None, description=f"Up to {MAX_REASON} characters")


class AdminMatch(_Body):
    mentor_id: Id


class Withdrawal(_Body):
    reason: Reason | None = Field(default=None, description=f"Up to {MAX_REASON} characters")


class WeightsBody(_Body):
    specialty: int = Field(ge=0, le=1000)
    interests: int = Field(ge=0, le=1000)
    career_stage: int = Field(ge=0, le=1000)
    language: int = Field(ge=0, le=1000)
    time_zone: int = Field(ge=0, le=1000)
    preferences: int = Field(ge=0, le=1000)


class ResponseDeadline(_Body):
    days: int = Field(ge=1, le=90)


class ForbiddenPair(_Body):
    mentee_id: Id
    mentor_id: Id


class BulkRunBody(_Body):
    mode: Literal["optimal", "stable"]
    mentee_ids: list[Id] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_COHORT,
        description="The cohort; omitted: every active mentee with no open request and no mentor",
    )
    pinned: dict[Id, Id] = Field(
        default_factory=dict, max_length=MAX_COHORT, description="mentee id → mentor id, placed first"
    )
    forbidden: list[ForbiddenPair] = Field(
        default_factory=list, max_length=MAX_COHORT, description="pairs never proposed"
    )
    program_id: ProgramId = Field(default="default", description="The program whose enrolled participants are matched")


class EligibilityBody(_Body):
    departments: list[Tag] = Field(default_factory=list, max_length=100)
    career_stages: list[Tag] = Field(default_factory=list, max_length=20)
    priority_groups: list[Tag] = Field(default_factory=list, max_length=50, description="In priority order")
    hr_attributes: dict[Tag, list[Tag]] = Field(
        default_factory=dict,
        max_length=20,
        description="HR attribute (job_function, department, location, country,"
        " remote, employment_status, title) → allowed values",
    )


class ProgramSettingsBody(_Body):
    """Every setting of a program (a PUT replaces them all)."""

    name: Name
    model: Literal["one_to_one", "group", "peer"]
    starts_on: Day | None = None
    ends_on: Day | None = Field(default=None, description="None: open-ended")
    eligibility: EligibilityBody = Field(default_factory=EligibilityBody)
    matching_mode: Literal["director_review", "self_match", "admin", "bulk"]
    response_days: int = Field(default=7, ge=1, le=90)
    weights: WeightsBody | None = Field(default=None, description="Omitted: the default weights")
    cadence_weeks_min: int = Field(default=2, ge=1, le=52)
    cadence_weeks_max: int = Field(default=6, ge=1, le=52)
    review_interval_months: int = Field(default=6, ge=1, le=24)
    group_size_max: int | None = Field(default=None, ge=1, le=20, description="Group programs only")
    circle_size: int | None = Field(default=None, ge=2, le=20, description="Peer programs only")
    inactivity_days: int = Field(default=90, ge=1, le=365)
    surveys: list[Tag] = Field(default_factory=list, max_length=20)
    priority_policy: Literal["first", "weight"] = "first"


class NewProgram(ProgramSettingsBody):
    program_id: ProgramId


class EnrolBody(_Body):
    participant_id: Id | None = Field(default=None, description="Omitted: the caller; someone else: director only")
    role: Literal["mentor", "mentee", "peer"]
    capacity: int | None = Field(default=None, ge=0, le=100, description="Mentors only; omitted: shared capacity")


class GroupBody(_Body):
    mentor_ids: list[Id] = Field(
        default_factory=list, max_length=20, description="At least one for a group; none for a peer circle"
    )
    mentee_ids: list[Id] = Field(min_length=1, max_length=20)
