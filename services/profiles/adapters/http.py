"""HTTP API of the profiles service: registration, edits, capacity, training, erasure, reading a participant.

Each route checks who may act (roles, "only their own profile"), builds a command and hands it to its use
case; ``shared.http`` maps the domain errors (404, 409, 422 naming the field).  Edits take an optional
``If-Match: "<version>"`` (the ``ETag`` of GET); a stale version is 409, as is a concurrent write between
load and append.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, FastAPI, Header, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.profiles.adapters import aggregates, directory, hr_import_api, scim_api
from services.profiles.adapters.container import Container, ProfilesContainer
from services.profiles.adapters.requests import (
    CapacityChange,
    MenteeRegistration,
    MentorRegistration,
    ProfilePatch,
    TrainingCompletion,
)
from services.profiles.application import (
    change_capacity,
    complete_training,
    edit_profile,
    erase_participant,
    register,
)
from services.profiles.application.commands import (
    ChangeCapacity,
    CompleteTraining,
    EditProfile,
    EraseParticipant,
    Register,
)
from services.profiles.domain.participant import ParticipantNotFound
from shared.auth import DirectorOrMentee, DirectorOrMentor, Member, Principal, Role
from shared.events.profiles import MenteeRegistered, MentorRegistered
from shared.fields import IdPath
from shared.http import CorrelationDep, include_routes

router = APIRouter(tags=["participants"])

IfMatch = Annotated[str | None, Header(description='Version last read, e.g. "3"; stale → 409')]


class Registered(BaseModel):
    participant_id: str
    version: int


class Edited(BaseModel):
    participant_id: str
    version: int
    changed: list[str]


def install(app: FastAPI) -> None:
    """Every route of the service and the two answers ``shared.http`` does not give (unstorable text, SCIM errors)."""
    include_routes(app, router)
    include_routes(app, directory.router)
    include_routes(app, hr_import_api.router)
    include_routes(app, aggregates.router)
    scim_api.install(app)
    for not_storable in (
        asyncpg.CharacterNotInRepertoireError,
        asyncpg.UntranslatableCharacterError,
        asyncpg.DataError,  # only for a lone surrogate (an escaped \ud800 in JSON): it has no UTF-8 to send
    ):
        app.add_exception_handler(not_storable, _not_storable_text)


@router.post("/mentors", status_code=status.HTTP_201_CREATED, response_model=Registered)
async def post_mentor(
    body: MentorRegistration, container: Container, correlation_id: CorrelationDep, principal: DirectorOrMentor
) -> Registered:
    """Register as a mentor (the person themself, or an admin): `MentorRegistered`."""
    return await _register(container, MentorRegistered, body, principal, correlation_id)


@router.post("/mentees", status_code=status.HTTP_201_CREATED, response_model=Registered)
async def post_mentee(
    body: MenteeRegistration, container: Container, correlation_id: CorrelationDep, principal: DirectorOrMentee
) -> Registered:
    """Register as a mentee (the person themself, or an admin): `MenteeRegistered`."""
    return await _register(container, MenteeRegistered, body, principal, correlation_id)


@router.get("/participants/{participant_id}")
async def get_participant(participant_id: IdPath, container: Container, principal: Member, response: Response) -> dict:
    """The participant's read model (the participant or an admin); `ETag` is the version, 410 after erasure."""
    _may_touch(principal, participant_id, "read")
    row = await container.queries.participant(participant_id)
    if row is None and await container.queries.was_erased(participant_id):
        raise HTTPException(status.HTTP_410_GONE, detail=f"participant {participant_id} was erased")
    if row is None:
        raise ParticipantNotFound(participant_id)
    response.headers["ETag"] = f'"{row["version"]}"'
    return row


@router.delete("/participants/{participant_id}", status_code=status.HTTP_204_NO_CONTENT)
async def erase(
    participant_id: IdPath, container: Container, correlation_id: CorrelationDep, principal: Member
) -> Response:
    """Right to erasure (an admin, or the participant themself): ``ParticipantErased``; personal data is gone."""
    _may_touch(principal, participant_id, "erase")
    await erase_participant.handle(container, EraseParticipant(participant_id, correlation_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/participants/{participant_id}/profile", response_model=Edited)
async def patch_profile(
    participant_id: IdPath,
    body: ProfilePatch,
    container: Container,
    correlation_id: CorrelationDep,
    principal: Member,
    response: Response,
    if_match: IfMatch = None,
) -> Edited:
    """Partial edit of the profile; only changed fields become one `ProfileUpdated`. `If-Match` guards the version."""
    _may_touch(principal, participant_id, "edit")
    changes = body.changes()
    if "priority_group" in changes and Role.admin not in principal.roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only admins set priority_group")
    source = "participant" if principal.subject == participant_id else "admin"
    edit = EditProfile(participant_id, changes, source, _version(if_match), correlation_id, principal.is_director)
    version, changed = await edit_profile.handle(container, edit)
    response.headers["ETag"] = f'"{version}"'
    return Edited(participant_id=participant_id, version=version, changed=changed)


@router.put("/participants/{participant_id}/capacity", response_model=Registered)
async def put_capacity(
    participant_id: IdPath,
    body: CapacityChange,
    container: Container,
    correlation_id: CorrelationDep,
    principal: Member,
    if_match: IfMatch = None,
) -> Registered:
    """Set a mentor's capacity (0 = not taking mentees): `MentorCapacityChanged`."""
    _may_touch(principal, participant_id, "edit")
    change = ChangeCapacity(participant_id, body.capacity, _version(if_match), correlation_id)
    return Registered(participant_id=participant_id, version=await change_capacity.handle(container, change))


@router.post("/participants/{participant_id}/training", response_model=Registered)
async def post_training(
    participant_id: IdPath,
    body: TrainingCompletion,
    container: Container,
    correlation_id: CorrelationDep,
    principal: Member,
    if_match: IfMatch = None,
) -> Registered:
    """Record a completed mentor training (workshop or handbook, not in the future): `MentorTrainingCompleted`."""
    _may_touch(principal, participant_id, "edit")
    training = CompleteTraining(participant_id, body.kind, body.completed_on, _version(if_match), correlation_id)
    return Registered(participant_id=participant_id, version=await complete_training.handle(container, training))


async def _register(
    container: ProfilesContainer,
    registered: type[MentorRegistered] | type[MenteeRegistered],
    body: MentorRegistration | MenteeRegistration,
    principal: Principal,
    correlation_id: UUID,
) -> Registered:
    """The one registration path: an admin names anyone (or a new id); others register themselves."""
    participant_id = _participant_id_for(body.participant_id, body.priority_group, principal)
    registration = registered(participant_id=participant_id, **body.model_dump(exclude={"participant_id"}))
    version = await register.handle(container, Register(registration, correlation_id, principal.is_director))
    return Registered(participant_id=participant_id, version=version)


def _participant_id_for(requested: str | None, priority_group: str | None, principal: Principal) -> str:
    if principal.is_director:
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


async def _not_storable_text(request: Request, exc: Exception) -> JSONResponse:
    """Postgres text cannot hold NUL characters or lone surrogates; say so instead of failing with a 500.

    The request models refuse both in the fields they bound; this answers for text they pass through
    unbounded (SCIM bodies, HR rows, search words)."""
    if type(exc) is asyncpg.DataError and not isinstance(exc.__cause__, UnicodeEncodeError):
        raise exc  # any other value the driver refuses is not the caller's text: a server error
    in_query = any("\x00" in key + value for key, value in request.query_params.multi_items())
    where = "path" if "\x00" in request.url.path else "query" if in_query else "body"
    return JSONResponse(
        {
            "detail": [
                {
                    "loc": [where],
                    "msg": "text may not contain NUL (\\u0000) characters or lone surrogates",
                    "type": "value_error",
                }
            ]
        },
        status_code=422,
    )
