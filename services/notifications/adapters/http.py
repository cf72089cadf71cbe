"""HTTP API: a participant (or an admin) reads and sets how they are told."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from services.notifications.application.deps import Deps
from services.notifications.application.preferences import (
    ChannelUnavailable,
    Preferences,
    get_preferences,
    set_preferences,
)
from shared.auth import Principal, Role, require_roles
from shared.http import RuntimeDep

router = APIRouter(prefix="/participants", tags=["preferences"])

Caller = Annotated[Principal, Depends(require_roles(Role.admin, Role.mentor, Role.mentee))]


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[Literal["email", "webhook"]] = Field(min_length=1, max_length=2)
    digest: bool = Field(default=False, description="One daily digest instead of immediate messages")


def deps_of(request: Request) -> Deps:
    return request.app.state.deps


DepsDep = Annotated[Deps, Depends(deps_of)]


def _own_or_admin(principal: Principal, participant_id: str) -> None:
    if principal.subject != participant_id and Role.admin not in principal.roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the participant themself or an admin")


@router.put("/{participant_id}/preferences", response_model=PreferencesBody)
async def put_preferences(
    participant_id: str, body: PreferencesBody, principal: Caller, runtime: RuntimeDep, deps: DepsDep
) -> PreferencesBody:
    _own_or_admin(principal, participant_id)
    try:
        async with runtime.pool.acquire() as conn:
            saved = await set_preferences(conn, deps, participant_id, Preferences(list(body.channels), body.digest))
    except ChannelUnavailable as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            detail=[{"loc": ["body", "channels"], "msg": str(exc), "type": "value_error"}],
        ) from exc
    return PreferencesBody(channels=saved.channels, digest=saved.digest)


@router.get("/{participant_id}/preferences", response_model=PreferencesBody)
async def read_preferences(
    participant_id: str, principal: Caller, runtime: RuntimeDep, deps: DepsDep
) -> PreferencesBody:
    _own_or_admin(principal, participant_id)
    async with runtime.pool.acquire() as conn:
        saved = await get_preferences(conn, deps, participant_id)
    return PreferencesBody(channels=saved.channels, digest=saved.digest)


def install(app: FastAPI, deps: Deps) -> None:
    app.state.deps = deps
    app.include_router(router)
