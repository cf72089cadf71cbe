"""The person's own profile (mentees and mentors): biography, specialty, interests, languages, time zone, career
stage and, with consent, demographics; profiles' ``PATCH /participants/{id}/profile`` guarded by the version read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.portal.adapters.i18n import N_
from services.portal.adapters.web import Viewer, ViewerDep, checked_form, done, render
from services.portal.application import forms
from services.portal.application.errors import Conflict, FieldErrors, NotFound
from shared.auth import Role

router = APIRouter(include_in_schema=False)
NAV = [((Role.mentor, Role.mentee), "/profile", N_("My profile"))]
FIELDS = (*forms.PROFILE_FIELDS, *forms.DEMOGRAPHIC_FIELDS)


async def participant_of(viewer: Viewer) -> dict[str, Any] | None:
    """The person's own participant record in profiles, or None if they are not registered yet."""
    try:
        return await viewer.api.get("profiles", f"/participants/{viewer.subject}")
    except NotFound:
        return None


@router.get("/profile", response_class=HTMLResponse)
async def profile_page(viewer: ViewerDep) -> HTMLResponse:
    participant = await participant_of(viewer)
    values = forms.profile_values(participant) if participant else {}
    return _page(viewer, participant, values)


@router.post("/profile", response_model=None)
async def save_profile(viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    values = {name: form.one(name) for name in FIELDS}
    values["profile.biography"] = form.one("profile.biography")
    participant = await participant_of(viewer)
    if participant is None:
        return _page(viewer, None, values, status_code=404)
    body = forms.profile_patch(values, had_demographics=bool((participant.get("demographics") or {}).get("consented")))
    version = form.one("version")
    headers = forms.version_header(int(version) if version.isdigit() else None)
    try:
        await viewer.api.send("profiles", "PATCH", f"/participants/{viewer.subject}/profile", body, headers)
    except FieldErrors as exc:
        return _page(viewer, participant, values, errors=forms.place_errors(exc.fields, FIELDS), status_code=422)
    except Conflict as exc:
        return _page(viewer, participant, values, conflict=exc.detail, status_code=409)
    return done("/profile", "profile")


def _page(
    viewer: Viewer,
    participant: dict[str, Any] | None,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    conflict: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        viewer,
        "profile/profile.html",
        status_code,
        participant=participant,
        values=values,
        errors=errors or {},
        conflict=conflict,
        career_stages=forms.CAREER_STAGES,
    )
