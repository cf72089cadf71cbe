"""HTTP API of the relationships service: each route builds a command (or a query) and hands it to its use case.

Parties (mentor and mentees) act on and read their own relationships; the
program director (admin) starts group and peer relationships, closes any, and
reads status and dates but never notes or comments; analysts have no access here.
Errors are the domain's (``domain/errors.py``), mapped to status codes by ``shared.http``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from pydantic import BaseModel

from services.relationships.adapters import views
from services.relationships.adapters.requests import (
    Closure,
    GoalProgress,
    LogMeeting,
    NewGoal,
    ProposeAgreement,
    Review,
    Signature,
    StartRelationship,
)
from services.relationships.adapters.survey_http import open_surveys_of
from services.relationships.application import (
    close_relationship,
    commands,
    leave_relationship,
    log_meeting,
    progress_goal,
    propose_agreement,
    review_agreement,
    set_goal,
    sign_agreement,
    start_relationship,
)
from services.relationships.application.confidential import read_texts
from services.relationships.application.container import Container
from services.relationships.application.queries import show_relationship
from shared.auth import Director, Member, Party
from shared.fields import MAX_COUNT, IdPath
from shared.http import CorrelationDep, RuntimeDep, get_container, include_routes

router = APIRouter(prefix="/relationships", tags=["relationships"])

ContainerDep = Annotated[Container, Depends(get_container)]


class Changed(BaseModel):
    relationship_id: str
    version: int


class Note(BaseModel):
    record_id: str
    author_id: str
    text: str
    written_at: datetime


def install(app: FastAPI, container: Container) -> None:
    app.state.container = container
    include_routes(app, router)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Changed)
async def post_relationship(
    body: StartRelationship, c: ContainerDep, correlation_id: CorrelationDep, _: Director
) -> Changed:
    """The director starts a relationship (one-to-one, group or peer): `RelationshipStarted`."""
    cmd = commands.StartRelationship(**body.model_dump(), correlation_id=correlation_id)
    return Changed(relationship_id=await start_relationship.handle(c, cmd), version=1)


@router.get("")
async def list_relationships(
    runtime: RuntimeDep,
    principal: Member,
    phase: Annotated[str | None, Query(pattern="^(preparing|negotiating|enabling|closed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_COUNT)] = 0,
    lagging: Annotated[bool | None, Query(description="Only lagging (true) or only not lagging (false) pairs")] = None,
    program_id: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")] = None,
) -> dict[str, Any]:
    """The director sees every relationship; a participant only their own (as mentor, co-mentor, mentee or
    member). Each row has the model, `program_id`, `mentors`, `members`, the cadence's `next_meeting_due_on`
    and `lagging`; `program_id` filters by program."""
    participant = None if principal.is_director else principal.subject
    items = await views.listing(
        runtime.pool,
        participant_id=participant,
        phase=phase,
        limit=limit,
        offset=offset,
        lagging=lagging,
        program_id=program_id,
    )
    return {"items": items}


@router.get("/{relationship_id}")
async def get_relationship(
    relationship_id: IdPath, c: ContainerDep, principal: Member, request: Request
) -> dict[str, Any]:
    """The relationship's status; a party also gets the agreement, goals, meetings and
    `open_surveys` (issue 18: the reader's surveys of this relationship still to answer)."""
    shown = await show_relationship(c, relationship_id, principal.subject, director=principal.is_director)
    if "agreement" in shown:  # a party's view
        shown["open_surveys"] = await open_surveys_of(request.app, relationship_id, principal.subject)
    return shown


@router.put("/{relationship_id}/agreement")
async def put_agreement(
    relationship_id: IdPath, body: ProposeAgreement, c: ContainerDep, principal: Party
) -> dict[str, Any]:
    """A party drafts the agreement's terms: a new revision, no event."""
    draft = await propose_agreement.handle(c, commands.ProposeAgreement(relationship_id, principal.subject, body))
    return {"relationship_id": relationship_id, "revision": draft.revision}


@router.post("/{relationship_id}/agreement/signatures")
async def post_signature(
    relationship_id: IdPath, body: Signature, c: ContainerDep, correlation_id: CorrelationDep, principal: Party
) -> dict[str, Any]:
    """A party signs a revision of the agreement; the last signature records `AgreementSigned`."""
    cmd = commands.SignAgreement(relationship_id, principal.subject, **body.model_dump(), correlation_id=correlation_id)
    draft = await sign_agreement.handle(c, cmd)
    return {"revision": draft.revision, "signed_by": sorted(draft.signatures), "concluded": draft.concluded}


@router.post("/{relationship_id}/meetings", status_code=status.HTTP_201_CREATED)
async def post_meeting(
    relationship_id: IdPath, body: LogMeeting, c: ContainerDep, correlation_id: CorrelationDep, principal: Party
) -> dict[str, str]:
    """A party logs a meeting: `MeetingLogged` (the notes are kept encrypted, never in the event)."""
    cmd = commands.LogMeeting(relationship_id, principal.subject, **body.model_dump(), correlation_id=correlation_id)
    return {"meeting_id": await log_meeting.handle(c, cmd)}


@router.get("/{relationship_id}/notes", response_model=list[Note])
async def get_notes(relationship_id: IdPath, c: ContainerDep, principal: Member) -> Any:
    """The meeting notes, for the parties only, oldest first."""
    return await read_texts(c, relationship_id, principal.subject, "meeting_note", director=principal.is_director)


@router.post("/{relationship_id}/goals", status_code=status.HTTP_201_CREATED)
async def post_goal(
    relationship_id: IdPath, body: NewGoal, c: ContainerDep, correlation_id: CorrelationDep, principal: Party
) -> dict[str, str]:
    """A party sets a SMART goal: `GoalSet`."""
    cmd = commands.SetGoal(relationship_id, principal.subject, **body.model_dump(), correlation_id=correlation_id)
    return {"goal_id": await set_goal.handle(c, cmd)}


@router.post("/{relationship_id}/goals/{goal_id}/progress", response_model=Changed)
async def post_goal_progress(
    relationship_id: IdPath,
    goal_id: IdPath,
    body: GoalProgress,
    c: ContainerDep,
    correlation_id: CorrelationDep,
    principal: Party,
) -> Changed:
    """A party records a goal's progress or outcome: `GoalProgressed`."""
    cmd = commands.ProgressGoal(
        relationship_id, principal.subject, goal_id, **body.model_dump(), correlation_id=correlation_id
    )
    return Changed(relationship_id=relationship_id, version=await progress_goal.handle(c, cmd))


@router.post("/{relationship_id}/reviews", response_model=Changed)
async def post_review(
    relationship_id: IdPath, body: Review, c: ContainerDep, correlation_id: CorrelationDep, principal: Member
) -> Changed:
    """The director or a party records the periodic review: `AgreementReviewed`."""
    cmd = commands.ReviewAgreement(
        relationship_id,
        principal.subject,
        **body.model_dump(),
        by_director=principal.is_director,
        correlation_id=correlation_id,
    )
    return Changed(relationship_id=relationship_id, version=await review_agreement.handle(c, cmd))


@router.post("/{relationship_id}/closure", response_model=Changed)
async def post_closure(
    relationship_id: IdPath, body: Closure, c: ContainerDep, correlation_id: CorrelationDep, principal: Member
) -> Changed:
    """The director or a party closes the relationship, with or without a rematch: `RelationshipClosed`."""
    cmd = commands.CloseRelationship(
        relationship_id,
        principal.subject,
        **body.model_dump(),
        by_director=principal.is_director,
        correlation_id=correlation_id,
    )
    return Changed(relationship_id=relationship_id, version=await close_relationship.handle(c, cmd))


@router.post("/{relationship_id}/members/{participant_id}/leave", response_model=Changed)
async def post_leave(
    relationship_id: IdPath,
    participant_id: IdPath,
    c: ContainerDep,
    correlation_id: CorrelationDep,
    principal: Member,
) -> Changed:
    """A member leaves a group or a peer circle (themselves, or the director records it): `MemberLeft`; when
    fewer than the model's minimum remain, also `RelationshipClosed` (`participant_left`)."""
    cmd = commands.LeaveRelationship(
        relationship_id,
        principal.subject,
        participant_id=participant_id,
        by_director=principal.is_director,
        correlation_id=correlation_id,
    )
    return Changed(relationship_id=relationship_id, version=await leave_relationship.handle(c, cmd))


@router.get("/{relationship_id}/feedback/comments", response_model=list[Note])
async def get_comments(relationship_id: IdPath, c: ContainerDep, principal: Member) -> Any:
    """The comments of the earlier feedback survey (answered before the surveys of issue 18 replaced it), for the
    parties only; comments on surveys now are their respondents' text answers (`/surveys/...`)."""
    return await read_texts(c, relationship_id, principal.subject, "feedback_comment", director=principal.is_director)
