"""HTTP API of the profiles service: registration, edits, capacity, training, the mentor directory.

Edits take an optional ``If-Match: "<version>"`` (the ``ETag`` of GET); a stale
version is 409, as is a concurrent write between load and append.
"""

from __future__ import annotations

from typing import Annotated
from uuid import uuid4

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.profiles.adapters import read_model
from services.profiles.adapters.directory import router as directory_router
from services.profiles.adapters.requests import (
    CapacityChange,
    MenteeRegistration,
    MentorRegistration,
    ProfilePatch,
    TrainingCompletion,
)
from services.profiles.application.change_capacity import change_capacity
from services.profiles.application.complete_training import complete_training
from services.profiles.application.edit_profile import edit_profile
from services.profiles.application.erase_participant import erase_participant
from services.profiles.application.register_mentee import register_mentee
from services.profiles.application.register_mentor import register_mentor
from shared.auth import Principal, Role, require_roles
from shared.events.profiles import MenteeRegistered, MentorRegistered
from shared.http import CorrelationDep, RuntimeDep

router = APIRouter(tags=["participants"])

Participant_ = Annotated[Principal, Depends(require_roles(Role.admin, Role.mentor, Role.mentee))]
IfMatch = Annotated[str | None, Header(description='Version last read, e.g. "3"; stale → 409')]


class Registered(BaseModel):
    participant_id: str
    version: int


class Edited(BaseModel):
    participant_id: str
    version: int
    changed: list[str]


def install(app: FastAPI) -> None:
    """Routes (``shared.http`` maps the domain errors to status codes)."""
    app.include_router(router)
    app.include_router(directory_router)
    for not_storable in (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError):
        app.add_exception_handler(not_storable, _not_storable_text)


@router.post("/mentors", status_code=status.HTTP_201_CREATED, response_model=Registered)
async def post_mentor(
    body: MentorRegistration,
    runtime: RuntimeDep,
    correlation_id: CorrelationDep,
    principal: Annotated[Principal, Depends(require_roles(Role.admin, Role.mentor))],
) -> Registered:
    participant_id = _participant_id_for(body.participant_id, body.priority_group, principal)
    registration = MentorRegistered(participant_id=participant_id, **body.model_dump(exclude={"participant_id"}))
    version = await register_mentor(runtime.pool, runtime.store, registration, correlation_id)
    return Registered(participant_id=participant_id, version=version)


@router.post("/mentees", status_code=status.HTTP_201_CREATED, response_model=Registered)
async def post_mentee(
    body: MenteeRegistration,
    runtime: RuntimeDep,
    correlation_id: CorrelationDep,
    principal: Annotated[Principal, Depends(require_roles(Role.admin, Role.mentee))],
) -> Registered:
    participant_id = _participant_id_for(body.participant_id, body.priority_group, principal)
    registration = MenteeRegistered(participant_id=participant_id, **body.model_dump(exclude={"participant_id"}))
    version = await register_mentee(runtime.pool, runtime.store, registration, correlation_id)
    return Registered(participant_id=participant_id, version=version)


@router.get("/participants/{participant_id}")
async def get_participant(
    participant_id: str, runtime: RuntimeDep, principal: Participant_, response: Response
) -> dict:
    _may_touch(principal, participant_id, "read")
    row = await read_model.fetch(runtime.pool, participant_id)
    if row is None and await read_model.was_erased(runtime.pool, participant_id):
        raise HTTPException(status.HTTP_410_GONE, detail=f"participant {participant_id} was erased")
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no participant {participant_id}")
    response.headers["ETag"] = f'"{row["version"]}"'
    return row


@router.delete("/participants/{participant_id}", status_code=status.HTTP_204_NO_CONTENT)
async def erase(
    participant_id: str, runtime: RuntimeDep, correlation_id: CorrelationDep, principal: Participant_
) -> Response:
    """Right to erasure (an admin, or the participant themself): ``ParticipantErased``; personal data is gone."""
    _may_touch(principal, participant_id, "erase")
    await erase_participant(runtime.pool, runtime.store, participant_id, correlation_id=correlation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/participants/{participant_id}/profile", response_model=Edited)
async def patch_profile(
    participant_id: str,
    body: ProfilePatch,
    runtime: RuntimeDep,
    correlation_id: CorrelationDep,
    principal: Participant_,
    response: Response,
    if_match: IfMatch = None,
) -> Edited:
    _may_touch(principal, participant_id, "edit")
    changes = body.changes()
    if "priority_group" in changes and Role.admin not in principal.roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only admins set priority_group")
    source = "participant" if principal.subject == participant_id else "admin"
    version, changed = await edit_profile(
        runtime.pool,
        runtime.store,
        participant_id,
        changes,
        source,
        expected_version=_version(if_match),
        correlation_id=correlation_id,
    )
    response.headers["ETag"] = f'"{version}"'
    return Edited(participant_id=participant_id, version=version, changed=changed)


@router.put("/participants/{participant_id}/capacity", response_model=Registered)
async def put_capacity(
    participant_id: str,
    body: CapacityChange,
    runtime: RuntimeDep,
    correlation_id: CorrelationDep,
    principal: Participant_,
    if_match: IfMatch = None,
) -> Registered:
    _may_touch(principal, participant_id, "edit")
    version = await change_capacity(
        runtime.pool,
        runtime.store,
        participant_id,
        body.capacity,
        expected_version=_version(if_match),
        correlation_id=correlation_id,
    )
    return Registered(participant_id=participant_id, version=version)


@router.post("/participants/{participant_id}/training", response_model=Registered)
async def post_training(
    participant_id: str,
    body: TrainingCompletion,
    runtime: RuntimeDep,
    correlation_id: CorrelationDep,
    principal: Participant_,
    if_match: IfMatch = None,
) -> Registered:
    _may_touch(principal, participant_id, "edit")
    version = await complete_training(
        runtime.pool,
        runtime.store,
        runtime.clock,
        participant_id,
        body.kind,
        body.completed_on,
        expected_version=_version(if_match),
        correlation_id=correlation_id,
    )
    return Registered(participant_id=participant_id, version=version)


def _participant_id_for(requested: str | None, priority_group: str | None, principal: Principal) -> str:
    if Role.admin in principal.roles:
        return requested or str(uuid4())
    if requested not in (None, principal.subject):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="participants may only register themselves")
    if priority_group is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only admins set priority_group")
    return principal.subject


def _may_touch(principal: Principal, participant_id: str, action: str) -> None:
    if Role.admin not in principal.roles and principal.subject != participant_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"participants may only {action} their own profile")


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise HTTPException(
            422,
            detail=[
                {"loc": ["header", "If-Match"], "msg": 'must be a version number, e.g. "3"', "type": "value_error"}
            ],
        )
    return int(text)


async def _not_storable_text(request: Request, _: Exception) -> JSONResponse:
    """Postgres text cannot hold NUL characters; say so instead of failing with a 500."""
    in_query = any("\x00" in key + value for key, value in request.query_params.multi_items())
    where = "path" if "\x00" in request.url.path else "query" if in_query else "body"
    return JSONResponse(
        {"detail": [{"loc": [where], "msg": "text may not contain NUL (\\u0000) characters", "type": "value_error"}]},
        status_code=422,
    )
