"""Request bodies of the HTTP API; FastAPI's 422 names the offending field."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from services.relationships.domain.agreement import AgreementTerms
from shared.events.profiles import MeetingFormat
from shared.events.relationships import ClosureReason

Id = str


class StartRelationship(BaseModel):
    model: Literal["one_to_one", "group", "peer"]
    mentor_id: Id = Field(min_length=1, max_length=64)
    mentee_ids: list[Id] = Field(min_length=1, max_length=20)
    match_id: Id | None = Field(default=None, min_length=1, max_length=64)


class ProposeAgreement(AgreementTerms):
    pass


class Signature(BaseModel):
    revision: int = Field(ge=1, description="The draft revision read, so nobody signs terms they have not seen")
    confidentiality_accepted: bool
    no_fault_termination_acknowledged: bool


class LogMeeting(BaseModel):
    held_on: date
    duration_minutes: int = Field(ge=1, le=600)
    format: MeetingFormat
    topic_tags: list[str] = Field(default_factory=list, max_length=10)
    notes: str | None = Field(default=None, max_length=20_000, description="Confidential to the parties")


class NewGoal(BaseModel):
    mentee_id: Id | None = Field(default=None, description="Defaults to the caller, or the sole mentee")
    text: str = Field(min_length=1, max_length=1000)
    measure: str = Field(min_length=1, max_length=500)
    due_on: date


class GoalProgress(BaseModel):
    status: Literal["in_progress", "achieved", "dropped"]
    progress_percent: int = Field(default=0, ge=0, le=100)


class Review(BaseModel):
    outcome: Literal["continued", "revised", "closing"]
    next_review_due_on: date | None = Field(default=None, description="Default: a year from today")


class Closure(BaseModel):
    reason: ClosureReason
    rematch_requested: bool = Field(default=False, description="Ask the director to arrange another mentor")


class Feedback(BaseModel):
    satisfaction: int = Field(ge=1, le=5)
    goals_met: bool
    would_recommend: bool
    comment: str | None = Field(default=None, max_length=4000, description="Confidential to the parties")
