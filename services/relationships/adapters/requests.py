"""Request bodies of the HTTP API; FastAPI's 422 names the offending field."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.relationships.domain.agreement import AgreementProposal, Milestone
from shared.events.profiles import MeetingFormat
from shared.events.relationships import ClosureReason, SmartGoal
from shared.fields import MAX_COUNT, MAX_NOTES, Day, Id, Notes, TopicTag, items, line, text

GoalText = text(1000)
Measure = text(500)
Title = line(300)
MenteeIds = items(Id, 20, min_items=1)
CoMentorIds = items(Id, 20)
AttendeeIds = items(Id, 40, min_items=1)
TopicTags = items(TopicTag, 10)


class StartRelationship(BaseModel):
    model: Literal["one_to_one", "group", "peer"]
    program_id: Id = Field(default="default", description="The program it belongs to")
    mentor_id: Id | None = Field(default=None, description="The (lead) mentor; none for a peer circle")
    co_mentor_ids: CoMentorIds = Field(default_factory=list, description="A group's further mentors")
    mentee_ids: MenteeIds = Field(description="The mentees; a peer circle's members (2-20)")
    match_id: Id | None = None


class GoalIn(SmartGoal):
    model_config = ConfigDict(extra="ignore", frozen=True)

    goal_id: Id
    text: GoalText
    measure: Measure = Field(description="How achievement is recognised")
    due_on: Day


class MilestoneIn(Milestone):
    title: Title
    due_on: Day


class ProposeAgreement(AgreementProposal):
    cadence_weeks_min: int | None = Field(default=None, ge=1, le=52, description="Default: the program's")
    cadence_weeks_max: int | None = Field(default=None, ge=1, le=52, description="Default: the program's")
    goals: list[GoalIn] = Field(default_factory=list, max_length=20, description="SMART objectives")
    development_plan: list[MilestoneIn] = Field(default_factory=list, max_length=50)
    review_due_on: Day | None = Field(default=None, description="Default: the program's review interval")


class Signature(BaseModel):
    revision: int = Field(
        ge=1, le=MAX_COUNT, description="The draft revision read, so nobody signs terms they have not seen"
    )
    confidentiality_accepted: bool
    no_fault_termination_acknowledged: bool


class LogMeeting(BaseModel):
    held_on: Day
    duration_minutes: int = Field(ge=1, le=600)
    format: MeetingFormat
    topic_tags: TopicTags = Field(default_factory=list)
    notes: Notes | None = Field(default=None, description=f"Confidential to the parties; up to {MAX_NOTES}")
    attendee_ids: AttendeeIds | None = Field(default=None, description="Who attended (parties); default: every party")


class NewGoal(BaseModel):
    mentee_id: Id | None = Field(default=None, description="Defaults to the caller, or the sole mentee")
    text: GoalText
    measure: Measure
    due_on: Day


class GoalProgress(BaseModel):
    status: Literal["in_progress", "achieved", "dropped"]
    progress_percent: int = Field(default=0, ge=0, le=100)


class Review(BaseModel):
    outcome: Literal["continued", "revised", "closing"]
    next_review_due_on: Day | None = Field(default=None, description="Default: the program's review interval")


class Closure(BaseModel):
    reason: ClosureReason
    rematch_requested: bool = Field(default=False, description="Ask the director to arrange another mentor")
