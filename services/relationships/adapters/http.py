"""HTTP API of the relationships service.

Parties (mentor and mentees) act on and read their own relationships; the
program director (admin) starts group and peer relationships, closes any, and
reads status and dates but never notes or comments; analysts have no access here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, status
from pydantic import BaseModel

from services.relationships.adapters import views
from services.relationships.adapters.requests import (
    Closure,
    Feedback,
    GoalProgress,
    LogMeeting,
    NewGoal,
    ProposeAgreement,
    Review,
    Signature,
    StartRelationship,
)
from services.relationships.application.close_relationship import close_relationship
from services.relationships.application.confidential import read_texts
from services.relationships.application.container import Container
from services.relationships.application.goals import progress_goal, set_goal
from services.relationships.application.log_meeting import log_meeting
from services.relationships.application.negotiate_agreement import (
    propose_agreement,
    sign_agreement,
)
from services.relationships.application.queries import show_relationship
from services.relationships.application.review_agreement import review_agreement
from services.relationships.application.start_relationship import start_relationship
from services.relationships.application.submit_feedback import submit_feedback
from services.relationships.domain.agreement import AgreementTerms
from shared.auth import Principal, Role, require_roles
from shared.http import CorrelationDep, RuntimeDep, get_container

router = APIRouter(prefix="/relationships", tags=["relationships"])

Reader = Annotated[Principal, Depends(require_roles(Role.admin, Role.mentor, Role.mentee))]
Party = Annotated[Principal, Depends(require_roles(Role.mentor, Role.mentee))]
Director = Annotated[Principal, Depends(require_roles(Role.admin))]


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
    app.include_router(router)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Changed)
async def post_relationship(
    body: StartRelationship, c: ContainerDep, correlation_id: CorrelationDep, _: Director
) -> Changed:
    rid = await start_relationship(c, body.model, body.mentor_id, body.mentee_ids, body.match_id, correlation_id)
    return Changed(relationship_id=rid, version=1)


@router.get("")
async def list_relationships(
    runtime: RuntimeDep,
    principal: Reader,
    phase: Annotated[str | None, Query(pattern="^(preparing|negotiating|enabling|closed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The director sees every relationship; a participant only their own."""
    participant = None if Role.admin in principal.roles else principal.subject
    items = await views.listing(runtime.pool, participant_id=participant, phase=phase, limit=limit, offset=offset)
    return {"items": items}


@router.get("/{relationship_id}")
async def get_relationship(relationship_id: str, c: ContainerDep, principal: Reader) -> dict[str, Any]:
    return await show_relationship(c, relationship_id, principal.subject, director=Role.admin in principal.roles)


@router.put("/{relationship_id}/agreement")
async def put_agreement(
    relationship_id: str, body: ProposeAgreement, c: ContainerDep, principal: Party
) -> dict[str, Any]:
    terms = AgreementTerms.model_validate(body.model_dump())
    draft = await propose_agreement(c, relationship_id, principal.subject, terms)
    return {"relationship_id": relationship_id, "revision": draft.revision}


@router.post("/{relationship_id}/agreement/signatures")
async def post_signature(
    relationship_id: str,
    body: Signature,
    c: ContainerDep,
    correlation_id: CorrelationDep,
    principal: Party,
) -> dict[str, Any]:
    draft = await sign_agreement(
        c,
        relationship_id,
        principal.subject,
        body.revision,
        confidentiality_accepted=body.confidentiality_accepted,
        no_fault_acknowledged=body.no_fault_termination_acknowledged,
        correlation_id=correlation_id,
    )
    return {"revision": draft.revision, "signed_by": sorted(draft.signatures), "concluded": draft.concluded}


@router.post("/{relationship_id}/meetings", status_code=status.HTTP_201_CREATED)
async def post_meeting(
    relationship_id: str,
    body: LogMeeting,
    c: ContainerDep,
    correlation_id: CorrelationDep,
    principal: Party,
) -> dict[str, str]:
    meeting_id = await log_meeting(
        c,
        relationship_id,
        principal.subject,
        held_on=body.held_on,
        duration_minutes=body.duration_minutes,
        format=body.format,
        topic_tags=body.topic_tags,
        notes=body.notes,
        correlation_id=correlation_id,
    )
    return {"meeting_id": meeting_id}


@router.get("/{relationship_id}/notes", response_model=list[Note])
async def get_notes(relationship_id: str, c: ContainerDep, principal: Reader) -> list[Note]:
    texts = await read_texts(c, relationship_id, principal.subject, "meeting_note")
    return [Note(record_id=t.record_id, author_id=t.author_id, text=t.text, written_at=t.written_at) for t in texts]


@router.post("/{relationship_id}/goals", status_code=status.HTTP_201_CREATED)
async def post_goal(
    relationship_id: str,
    body: NewGoal,
    c: ContainerDep,
    correlation_id: CorrelationDep,
    principal: Party,
) -> dict[str, str]:
    goal_id = await set_goal(
        c,
        relationship_id,
        principal.subject,
        mentee_id=body.mentee_id,
        text=body.text,
        measure=body.measure,
        due_on=body.due_on,
        correlation_id=correlation_id,
    )
    return {"goal_id": goal_id}


@router.post("/{relationship_id}/goals/{goal_id}/progress", response_model=Changed)
async def post_goal_progress(
    relationship_id: str,
    goal_id: str,
    body: GoalProgress,
    c: ContainerDep,
    correlation_id: CorrelationDep,
    principal: Party,
) -> Changed:
    version = await progress_goal(
        c,
        relationship_id,
        principal.subject,
        goal_id,
        body.status,
        body.progress_percent,
        correlation_id,
    )
    return Changed(relationship_id=relationship_id, version=version)


@router.post("/{relationship_id}/reviews", response_model=Changed)
async def post_review(
    relationship_id: str,
    body: Review,
    c: ContainerDep,
    correlation_id: CorrelationDep,
    principal: Reader,
) -> Changed:
    version = await review_agreement(
        c,
        relationship_id,
        principal.subject,
        body.outcome,
        body.next_review_due_on,
        by_director=Role.admin in principal.roles,
        correlation_id=correlation_id,
    )
    return Changed(relationship_id=relationship_id, version=version)


@router.post("/{relationship_id}/closure", response_model=Changed)
async def post_closure(
    relationship_id: str,
    body: Closure,
    c: ContainerDep,
    correlation_id: CorrelationDep,
    principal: Reader,
) -> Changed:
    version = await close_relationship(
        c,
        relationship_id,
        principal.subject,
        body.reason,
        by_director=Role.admin in principal.roles,
        rematch_requested=body.rematch_requested,
        correlation_id=correlation_id,
    )
    return Changed(relationship_id=relationship_id, version=version)


@router.post("/{relationship_id}/feedback", status_code=status.HTTP_201_CREATED)
async def post_feedback(
    relationship_id: str,
    body: Feedback,
    c: ContainerDep,
    correlation_id: CorrelationDep,
    principal: Party,
) -> dict[str, str]:
    survey = await submit_feedback(
        c,
        relationship_id,
        principal.subject,
        satisfaction=body.satisfaction,
        goals_met=body.goals_met,
        would_recommend=body.would_recommend,
        comment=body.comment,
        correlation_id=correlation_id,
    )
    return {"survey": survey}


@router.get("/{relationship_id}/feedback/comments", response_model=list[Note])
async def get_comments(relationship_id: str, c: ContainerDep, principal: Reader) -> list[Note]:
    texts = await read_texts(c, relationship_id, principal.subject, "feedback_comment")
    return [Note(record_id=t.record_id, author_id=t.author_id, text=t.text, written_at=t.written_at) for t in texts]
