"""Request bodies of the HTTP API; FastAPI's 422 names the offending field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitRequest(_Body):
    biography: str = Field(min_length=1, max_length=4000)
    motivation: str = Field(min_length=1, max_length=4000, description="Why the mentee seeks mentorship")
    ranked_mentor_ids: list[Id] = Field(min_length=1, max_length=3, description="First choice first, distinct")


class Review(_Body):
    approved: bool
    decline_reason: str | None = Field(default=None, max_length=2000, description="Required when declining")


class Response(_Body):
    accepted: bool
    reason: str | None = Field(default=None, max_length=2000)


class AdminMatch(_Body):
    mentor_id: Id


class Withdrawal(_Body):
    reason: str | None = Field(default=None, max_length=2000)


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
        max_length=20_000,
        description="The cohort; omitted: every active mentee with no open request and no mentor",
    )
    pinned: dict[Id, Id] = Field(default_factory=dict, description="mentee id → mentor id, placed first")
    forbidden: list[ForbiddenPair] = Field(default_factory=list, description="pairs never proposed")
