"""HTTP API: a participant (or an admin) reads and sets how they are told."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from services.notifications.application.commands import SetPreferences, ShowPreferences
from services.notifications.application.deps import Deps
from services.notifications.application.preferences import set_preferences, show_preferences
from services.notifications.domain.preferences import Preferences
from shared.auth import Member
from shared.fields import IdPath
from shared.http import get_container, include_routes

router = APIRouter(prefix="/participants", tags=["preferences"])

Container = Annotated[Deps, Depends(get_container)]


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[Literal["email", "webhook"]] = Field(min_length=1, max_length=2)
    digest: bool = Field(default=False, description="One daily digest instead of immediate messages")

    @classmethod
    def of(cls, preferences: Preferences) -> PreferencesBody:
        return cls(channels=preferences.channels, digest=preferences.digest)


@router.put("/{participant_id}/preferences", response_model=PreferencesBody)
async def put_preferences(
    participant_id: IdPath, body: PreferencesBody, principal: Member, deps: Container
) -> PreferencesBody:
    """Set the participant's notification preferences: channels (email, webhook) and a daily digest."""
    cmd = SetPreferences(participant_id, tuple(body.channels), body.digest, principal.subject, principal.is_director)
    return PreferencesBody.of(await set_preferences(deps, cmd))


@router.get("/{participant_id}/preferences", response_model=PreferencesBody)
async def read_preferences(participant_id: IdPath, principal: Member, deps: Container) -> PreferencesBody:
    """The participant's notification preferences."""
    cmd = ShowPreferences(participant_id, principal.subject, principal.is_director)
    return PreferencesBody.of(await show_preferences(deps, cmd))


def install(app: FastAPI, deps: Deps) -> None:
    app.state.container = deps
    include_routes(app, router)
