"""Request bodies of the HTTP API; FastAPI's 422 names the offending field."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.fields import MAX_BIOGRAPHY, MAX_REASON, Biography, Id, Reason

MAX_COHORT = 20_000


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitRequest(_Body):
    biography: Biography = Field(description=f"Up to {MAX_BIOGRAPHY} characters")
    motivation: Biography = Field(description=f"Why the mentee seeks mentorship; up to {MAX_BIOGRAPHY} characters")
    ranked_mentor_ids: list[Id] = Field(min_length=1, max_length=3, description="First choice first, distinct")


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
