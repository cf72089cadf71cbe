"""The mentor's pages: their capacity, availability and training; the inbox of requests forwarded to them, with the
mentee's biography, motivation and the time left to answer; accepting or declining with a reason."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.portal.adapters.i18n import N_
from services.portal.adapters.pages.profile import participant_of
from services.portal.adapters.web import Viewer, ViewerDep, checked_form, done, render
from services.portal.application import forms
from services.portal.application.errors import Conflict, FieldErrors
from services.portal.application.timeline import countdown
from shared.auth import Role

router = APIRouter(include_in_schema=False)
NAV = [
    ((Role.mentor,), "/mentor/inbox", N_("Requests to me")),
    ((Role.mentor,), "/mentor/profile", N_("Mentoring settings")),
]
CAPACITY_FIELDS = ("capacity",)
AVAILABILITY_FIELDS = ("availability.accepting_requests", "availability.hours_per_month", "availability.formats")
TRAINING_FIELDS = ("kind", "completed_on")
RESPONSE_FIELDS = ("reason",)


@router.get("/mentor/profile", response_class=HTMLResponse)
async def mentor_profile(viewer: ViewerDep) -> HTMLResponse:
    return await _settings_page(viewer)


@router.post("/mentor/capacity", response_model=None)
async def save_capacity(viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    raw = form.one("capacity")
    if not raw.isdigit():
        errors = {"capacity": viewer.gettext("Enter a whole number of mentees, 0 or more.")}
        return await _settings_page(viewer, errors=errors, typed={"capacity": raw}, status_code=422)
    path = f"/participants/{viewer.subject}/capacity"
    return await _send(
        viewer, form, "PUT", path, {"capacity": int(raw)}, CAPACITY_FIELDS, "capacity", {"capacity": raw}
    )


@router.post("/mentor/availability", response_model=None)
async def save_availability(viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    hours = form.one("availability.hours_per_month")
    availability: dict[str, Any] = {
        "accepting_requests": form.one("availability.accepting_requests") == "yes",
        "formats": [f for f in form.many("availability.formats") if f in forms.MEETING_FORMATS],
        "hours_per_month": int(hours) if hours.isdigit() else None,
    }
    typed = {"availability.hours_per_month": hours}
    if hours and not hours.isdigit():
        errors = {"availability.hours_per_month": viewer.gettext("Enter a whole number of hours, or leave it empty.")}
        return await _settings_page(viewer, errors=errors, typed=typed, status_code=422)
    path = f"/participants/{viewer.subject}/profile"
    body = {"availability": availability}
    return await _send(viewer, form, "PATCH", path, body, AVAILABILITY_FIELDS, "availability", typed)


@router.post("/mentor/training", response_model=None)
async def record_training(viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    body = {"kind": form.one("kind"), "completed_on": form.one("completed_on")}
    path = f"/participants/{viewer.subject}/training"
    return await _send(viewer, form, "POST", path, body, TRAINING_FIELDS, "training", body)


async def _send(
    viewer: Viewer,
    form: Any,
    method: str,
    path: str,
    body: dict[str, Any],
    fields: tuple[str, ...],
    what: str,
    typed: dict[str, str],
) -> Response:
    version = form.one("version")
    headers = forms.version_header(int(version) if version.isdigit() else None)
    try:
        await viewer.api.send("profiles", method, path, body, headers)
    except FieldErrors as exc:
        errors = forms.place_errors(exc.fields, fields)
        return await _settings_page(viewer, errors=errors, typed=typed, status_code=422, form=what)
    except Conflict as exc:
        return await _settings_page(viewer, conflict=exc.detail, status_code=409)
    return done("/mentor/profile", what)


async def _settings_page(
    viewer: Viewer,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    conflict: str = "",
    status_code: int = 200,
    form: str = "",
) -> HTMLResponse:
    participant = await participant_of(viewer)
    return render(
        viewer,
        "mentor/settings.html",
        status_code,
        participant=participant,
        errors=errors or {},
        typed=typed or {},
        conflict=conflict,
        failed_form=form,
        formats=forms.MEETING_FORMATS,
        today=date.today().isoformat(),
    )


@router.get("/mentor/inbox", response_class=HTMLResponse)
async def inbox(viewer: ViewerDep) -> HTMLResponse:
    return await _inbox_page(viewer)


@router.post("/mentor/requests/{request_id}/respond", response_model=None)
async def respond(request_id: str, viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    decision, reason = form.one("decision"), form.one("reason")
    if decision not in ("accept", "decline"):
        return await _inbox_page(viewer, request_id, {"_": viewer.gettext("Choose to accept or decline.")}, 422)
    if decision == "decline" and not reason:
        errors = {"reason": viewer.gettext("Please give the mentee a reason when you decline.")}
        return await _inbox_page(viewer, request_id, errors, 422)
    body = {"accepted": decision == "accept", "reason": reason or None}
    try:
        await viewer.api.send("matching", "POST", f"/requests/{request_id}/response", body)
    except FieldErrors as exc:
        return await _inbox_page(viewer, request_id, forms.place_errors(exc.fields, RESPONSE_FIELDS), 422)
    except Conflict as exc:
        return await _inbox_page(viewer, request_id, conflict=exc.detail, status_code=409)
    return done("/mentor/inbox", "accepted" if decision == "accept" else "declined")


async def _inbox_page(
    viewer: Viewer,
    failed: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    *,
    conflict: str = "",
) -> HTMLResponse:
    found = await viewer.api.get("matching", "/requests", {"limit": 100})
    items = found.get("items", [])
    waiting = [r for r in items if r["status"] == "forwarded" and r["mentor_id"] == viewer.subject]
    earlier = [r for r in reversed(items) if r not in waiting]
    now = viewer.portal.clock.now()
    return render(
        viewer,
        "mentor/inbox.html",
        status_code,
        waiting=sorted(waiting, key=lambda r: r["respond_by"] or ""),
        earlier=earlier,
        failed=failed,
        errors=errors or {},
        conflict=conflict,
        countdown=lambda deadline: countdown(_parse(deadline), now),
    )


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
