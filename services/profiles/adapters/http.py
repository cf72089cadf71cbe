"""HTTP API of the profiles service."""

from __future__ import annotations

from typing import Annotated
from uuid import uuid4

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Principal, Role, require_roles
from shared.events.profiles import (
    MAX_CAPACITY,
    Availability,
    Demographics,
    Email,
    Id,
    MentorRegistered,
    ProfileFields,
    TrainingStatus,
)
from shared.http import CorrelationDep, RuntimeDep
from services.profiles.application.register_mentor import register_mentor
from services.profiles.domain.participant import ParticipantRuleViolation

router = APIRouter(tags=["participants"])


class MentorRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: Id | None = Field(default=None, description="Admins may set it; otherwise the caller's subject")
    employee_id: Id | None = None
    name: str = Field(min_length=1, max_length=200)
    email: Email
    profile: ProfileFields
    capacity: int = Field(ge=0, le=MAX_CAPACITY, description="Mentees at once, the mentor's own choice")
    training_status: TrainingStatus = "untrained"
    availability: Availability = Field(default_factory=Availability)
    demographics: Demographics | None = None
    priority_group: str | None = Field(default=None, max_length=100)


class Registered(BaseModel):
    participant_id: str
    version: int


@router.post("/mentors", status_code=status.HTTP_201_CREATED, response_model=Registered)
async def post_mentor(
    body: MentorRegistration,
    runtime: RuntimeDep,
    correlation_id: CorrelationDep,
    principal: Annotated[Principal, Depends(require_roles(Role.admin, Role.mentor))],
) -> Registered:
    participant_id = _participant_id_for(body, principal)
    registration = MentorRegistered(participant_id=participant_id, **body.model_dump(exclude={"participant_id"}))
    try:
        version = await register_mentor(runtime.pool, runtime.store, registration, correlation_id)
    except ParticipantRuleViolation as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except asyncpg.UniqueViolationError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"email {body.email} is already registered") from exc
    return Registered(participant_id=participant_id, version=version)


def _participant_id_for(body: MentorRegistration, principal: Principal) -> str:
    if Role.admin in principal.roles:
        return body.participant_id or str(uuid4())
    if body.participant_id not in (None, principal.subject):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="participants may only register themselves")
    return principal.subject


@router.get("/participants/{participant_id}")
async def get_participant(
    participant_id: str,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require_roles(Role.admin, Role.mentor, Role.mentee))],
) -> dict:
    if Role.admin not in principal.roles and principal.subject != participant_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="participants may only read their own profile")
    row = await runtime.pool.fetchrow(
        "SELECT participant_id, name, email, roles, capacity, profile, active, version"
        " FROM participants WHERE participant_id = $1",
        participant_id,
    )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no participant {participant_id}")
    return dict(row)
