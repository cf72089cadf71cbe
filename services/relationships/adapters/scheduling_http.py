"""HTTP API of scheduled meetings, under ``/relationships/{id}/meetings/...``: parties only (404 to anyone else).

Each route builds a command and hands it to ``application/schedule_meeting.py``; shape is checked here
(times with their UTC offset, 1-5 candidates, bounded ids and tags), meaning by ``MeetingSchedule``.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, status
from pydantic import BaseModel, Field

from services.relationships.application import schedule_meeting as uc
from services.relationships.application.schedule_meeting import Scheduling
from services.relationships.domain.scheduling_availability import Window
from shared.auth import Member
from shared.events.profiles import MeetingFormat
from shared.fields import Id, IdPath, Moment, Notes, TopicTag, items
from shared.http import CorrelationDep, include_routes

router = APIRouter(prefix="/relationships/{relationship_id}/meetings", tags=["meetings"])

Candidates = Annotated[list[Moment], Field(min_length=1, max_length=5, description="Start times with UTC offset")]
GoalIds = items(Id, 20)
Topics = items(TopicTag, 10)
TimeOfDay = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, in the person's zone")]


async def get_scheduling(request: Request) -> Scheduling:
    return request.app.state.scheduling


SchedulingDep = Annotated[Scheduling, Depends(get_scheduling)]


class Proposal(BaseModel):
    candidates: Candidates
    duration_minutes: int = Field(ge=5, le=600)
    agenda_goals: GoalIds | None = Field(default=None, description="Default: the pair's goals in progress")
    agenda_topics: Topics = Field(default_factory=list)
    format: MeetingFormat = "video"


class Acceptance(BaseModel):
    starts_at: Moment


class Reschedule(BaseModel):
    candidates: Candidates
    duration_minutes: int | None = Field(default=None, ge=5, le=600)
    agenda_goals: GoalIds | None = None
    agenda_topics: Topics | None = None


class Held(BaseModel):
    notes: Notes | None = Field(default=None, description="Confidential to the parties")
    duration_minutes: int | None = Field(default=None, ge=5, le=600, description="Default: as scheduled")
    topics: Topics | None = Field(default=None, description="The program's topics covered; default: the agenda's")


class WindowIn(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    start: TimeOfDay
    end: TimeOfDay


class Availability(BaseModel):
    windows: list[WindowIn] = Field(max_length=28)


class Changed(BaseModel):
    meeting_id: str
    version: int


def install_scheduling(app: FastAPI, scheduling: Scheduling) -> None:
    app.state.scheduling = scheduling
    include_routes(app, router)


@router.get("/availability")
async def get_availability(relationship_id: IdPath, s: SchedulingDep, principal: Member) -> dict[str, Any]:
    """Each party's time zone and weekly windows."""
    return await uc.availability_of(s, relationship_id, principal.subject)


@router.put("/availability")
async def put_availability(
    relationship_id: IdPath, body: Availability, s: SchedulingDep, principal: Member
) -> dict[str, Any]:
    """The caller's weekly windows, in their own time zone (they hold for all their relationships)."""
    windows = [Window(w.weekday, time.fromisoformat(w.start), time.fromisoformat(w.end)) for w in body.windows]
    await uc.set_availability(s, relationship_id, principal.subject, windows)
    return await uc.availability_of(s, relationship_id, principal.subject)


@router.get("/scheduled")
async def get_scheduled(relationship_id: IdPath, s: SchedulingDep, principal: Member) -> dict[str, Any]:
    """The pair's scheduled meetings, soonest first."""
    return {"items": await uc.meetings_of(s, relationship_id, principal.subject)}


@router.post("/proposals", status_code=status.HTTP_201_CREATED, response_model=Changed)
async def post_proposal(
    relationship_id: IdPath, body: Proposal, s: SchedulingDep, correlation_id: CorrelationDep, principal: Member
) -> Changed:
    """A party proposes 1-5 times: `MeetingProposed`."""
    cmd = uc.ProposeMeeting(relationship_id, principal.subject, **body.model_dump(), correlation_id=correlation_id)
    return Changed(meeting_id=await uc.propose(s, cmd), version=1)


@router.get("/{meeting_id}")
async def get_meeting(relationship_id: IdPath, meeting_id: IdPath, s: SchedulingDep, principal: Member) -> Any:
    """One scheduled meeting (the page the "did it happen?" mail links to)."""
    for meeting in await uc.meetings_of(s, relationship_id, principal.subject):
        if meeting["meeting_id"] == meeting_id:
            return meeting
    raise uc.RelationshipNotFound(f"no meeting {meeting_id}")


@router.post("/{meeting_id}/acceptance", response_model=Changed)
async def post_acceptance(
    relationship_id: IdPath,
    meeting_id: IdPath,
    body: Acceptance,
    s: SchedulingDep,
    correlation_id: CorrelationDep,
    principal: Member,
) -> Changed:
    """Another party accepts one of the proposed times: `MeetingAccepted`."""
    cmd = uc.AcceptMeeting(
        relationship_id,
        principal.subject,
        meeting_id=meeting_id,
        starts_at=body.starts_at,
        correlation_id=correlation_id,
    )
    return Changed(meeting_id=meeting_id, version=await uc.accept(s, cmd))


@router.post("/{meeting_id}/reschedule", response_model=Changed)
async def post_reschedule(
    relationship_id: IdPath,
    meeting_id: IdPath,
    body: Reschedule,
    s: SchedulingDep,
    correlation_id: CorrelationDep,
    principal: Member,
) -> Changed:
    """A party proposes new times: `MeetingRescheduled` (the other party accepts one again)."""
    cmd = uc.RescheduleMeeting(
        relationship_id, principal.subject, meeting_id=meeting_id, **body.model_dump(), correlation_id=correlation_id
    )
    return Changed(meeting_id=meeting_id, version=await uc.reschedule(s, cmd))


@router.post("/{meeting_id}/cancellation", response_model=Changed)
async def post_cancellation(
    relationship_id: IdPath, meeting_id: IdPath, s: SchedulingDep, correlation_id: CorrelationDep, principal: Member
) -> Changed:
    """A party cancels: `MeetingCancelled`."""
    cmd = uc.OnMeeting(relationship_id, principal.subject, meeting_id=meeting_id, correlation_id=correlation_id)
    return Changed(meeting_id=meeting_id, version=await uc.cancel(s, cmd))


@router.post("/{meeting_id}/held", response_model=Changed)
async def post_held(
    relationship_id: IdPath,
    meeting_id: IdPath,
    body: Held,
    s: SchedulingDep,
    correlation_id: CorrelationDep,
    principal: Member,
) -> Changed:
    """ "Did it happen?" — yes: `MeetingHeld`, and the meeting is logged on the relationship (`MeetingLogged`) with
    the duration and topics given (default: the scheduled duration, the agenda's topics)."""
    cmd = uc.ConfirmHeld(
        relationship_id,
        principal.subject,
        meeting_id=meeting_id,
        notes=body.notes,
        duration_minutes=body.duration_minutes,
        topics=body.topics,
        correlation_id=correlation_id,
    )
    return Changed(meeting_id=meeting_id, version=await uc.confirm_held(s, cmd))
