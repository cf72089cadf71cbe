"""The mentee's pages: the mentor directory with filters and personal suggestions, composing a request (biography,
motivation, one to three ranked mentors, reordered with plain buttons), the request's status as a timeline, and
withdrawing it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from services.portal.adapters.i18n import N_
from services.portal.adapters.web import Viewer, ViewerDep, checked_form, done, render, section, sections
from services.portal.application import forms, ranking
from services.portal.application.errors import Conflict, FieldErrors, NotFound
from services.portal.application.programs import REQUEST_MODES
from services.portal.application.timeline import countdown, is_open, timeline
from shared.auth import Role

router = APIRouter(include_in_schema=False)
NAV = [
    ((Role.mentee,), "/mentors", N_("Find a mentor")),
    ((Role.mentee,), "/request", N_("My request")),
]
REQUEST_FIELDS = ("program_id", "biography", "motivation", "ranked_mentor_ids")
DIRECTORY_LIMIT = 200


async def mentors_by_id(viewer: Viewer) -> dict[str, dict[str, Any]]:
    """Every active mentor of the directory (profiles), by id: names and details for suggestions and choices."""
    page = await viewer.api.get("profiles", "/directory/mentors", {"limit": DIRECTORY_LIMIT})
    return {m["participant_id"]: m for m in page["items"]}


async def _suggestions(viewer: Viewer) -> list[dict[str, Any]]:
    found = await viewer.api.get("matching", f"/mentees/{viewer.subject}/suggestions", {"k": 5})
    return found["items"]


@router.get("/mentors", response_class=HTMLResponse)
async def directory(
    viewer: ViewerDep,
    specialty: str = Query(default="", max_length=200),
    interest: str = Query(default="", max_length=1000),
    language: str = Query(default="", max_length=35),
    format: str = Query(default="", max_length=20),
    open_slots: str = Query(default="", alias="open", max_length=3),
    q: str = Query(default="", max_length=200),
) -> HTMLResponse:
    params: dict[str, Any] = {"limit": 50}
    interests = forms.split_list(interest)[:30]
    for name, value in (("specialty", specialty), ("language", language), ("q", q)):
        if value.strip():
            params[name] = value.strip()
    if interests:
        params["interest"] = interests
    if format in forms.MEETING_FORMATS:
        params["format"] = format
    if open_slots:
        params["has_capacity"] = "true"
    calls: dict[str, Any] = {"found": viewer.api.get("profiles", "/directory/mentors", params)}
    if viewer.has(Role.mentee):
        calls["suggested"] = _suggestions(viewer)
        calls["everyone"] = mentors_by_id(viewer)
    found = await sections(**calls)
    filters = {
        "specialty": specialty,
        "interest": interest,
        "language": language,
        "format": format,
        "open": open_slots,
        "q": q,
    }
    return render(
        viewer,
        "mentee/directory.html",
        found=found["found"],
        suggested=found.get("suggested"),
        everyone=(found["everyone"].value if "everyone" in found else None) or {},
        filters=filters,
        formats=forms.MEETING_FORMATS,
        filtered=any(filters.values()),
    )


@router.get("/request/new", response_class=HTMLResponse)
async def compose(
    viewer: ViewerDep,
    add: str = Query(default="", max_length=200),
    program: str = Query(default="", max_length=40),
) -> HTMLResponse:
    try:
        own = await viewer.api.get("profiles", f"/participants/{viewer.subject}")
    except NotFound:
        own = {}
    values = {
        "biography": (own.get("profile") or {}).get("biography") or "",
        "motivation": "",
        "program_id": program or "default",
    }
    return await _compose_page(viewer, values, [add] if add else [])


@router.post("/request/new", response_model=None)
async def compose_post(viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    values = {
        "biography": form.one("biography"),
        "motivation": form.one("motivation"),
        "program_id": form.one("program_id") or "default",
    }
    ranked = form.many("ranked")
    action = form.one("action", "submit")
    if action != "submit":
        return await _compose_page(viewer, values, ranking.rearrange(ranked, action, form.one("candidate")))
    body = {
        "biography": values["biography"],
        "motivation": values["motivation"],
        "ranked_mentor_ids": ranked,
        "program_id": values["program_id"],
    }
    try:
        await viewer.api.send("matching", "POST", "/requests", body)
    except FieldErrors as exc:
        errors = forms.place_errors(exc.fields, REQUEST_FIELDS)
        return await _compose_page(viewer, values, ranked, errors=errors, status_code=422)
    except Conflict as exc:
        return await _compose_page(viewer, values, ranked, refused=exc.detail, status_code=409)
    return done("/request", "request")


async def _compose_page(
    viewer: Viewer,
    values: dict[str, str],
    ranked: list[str],
    *,
    errors: dict[str, str] | None = None,
    refused: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    found = await sections(
        everyone=mentors_by_id(viewer), suggested=_suggestions(viewer), programs=_request_programs(viewer)
    )
    everyone = found["everyone"].value or {}
    suggested = found["suggested"].value or []
    reasons = {s["mentor_id"]: s["reason"] for s in suggested}
    first = [s["mentor_id"] for s in suggested if s["mentor_id"] in everyone]
    rest = sorted((m for m in everyone if m not in reasons), key=lambda m: everyone[m]["name"])
    candidates = [m for m in (*first, *rest) if m not in ranked and everyone[m].get("capacity_left", 1) > 0]
    return render(
        viewer,
        "mentee/compose.html",
        status_code,
        values=values,
        ranked=ranked,
        everyone=everyone,
        candidates=candidates,
        reasons=reasons,
        errors=errors or {},
        refused=refused,
        down=found["everyone"].down or found["suggested"].down,
        max_choices=ranking.MAX_CHOICES,
        programs=found["programs"].value or [("default", "default")],
    )


async def _request_programs(viewer: Viewer) -> list[tuple[str, str]]:
    """The programs a mentee may make a request in: "default", and those taking requests (director review or
    self-match) they are enrolled in as a mentee."""
    listed = await viewer.api.get("matching", "/programs")
    mine = await viewer.api.get("matching", "/enrolments")
    enrolled = {e["program_id"] for e in mine.get("enrolments", []) if e["role"] == "mentee"}
    return [
        (p["program_id"], p["name"])
        for p in listed.get("programs", [])
        if p["matching_mode"] in REQUEST_MODES and (p["program_id"] == "default" or p["program_id"] in enrolled)
    ]


@router.get("/request", response_class=HTMLResponse)
async def request_status(viewer: ViewerDep) -> HTMLResponse:
    return await _status_page(viewer)


@router.post("/request/{request_id}/withdraw", response_model=None)
async def withdraw(request_id: str, viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    body = {"reason": form.one("reason") or None}
    try:
        await viewer.api.send("matching", "POST", f"/requests/{request_id}/withdrawal", body)
    except FieldErrors as exc:
        return await _status_page(viewer, errors=forms.place_errors(exc.fields, ("reason",)), status_code=422)
    except Conflict as exc:
        return await _status_page(viewer, conflict=exc.detail, status_code=409)
    return done("/request", "withdrawn")


_STEP_EVENTS = {
    "submitted": ("RequestRanked", {}),
    "approved": ("RequestReviewed", {"approved": True}),
    "declined": ("RequestReviewed", {"approved": False}),
    "forwarded": ("RequestForwarded", {}),
    "mentor_accepted": ("MentorResponded", {"accepted": True}),
    "mentor_declined": ("MentorResponded", {"accepted": False}),
    "expired": ("RequestExpired", {}),
    "unmatched": ("RequestUnmatched", {}),
    "matched": ("MatchApproved", {}),
    "withdrawn": ("RequestWithdrawn", {}),
}


async def _history(viewer: Viewer, request_id: str) -> list[dict[str, Any]] | None:
    """Matching's timeline of the request (``GET /requests/{id}/timeline``, the steps as the mentee may read them),
    as the history ``application.timeline`` reads; None where there is none (the timeline is derived from the view)."""
    try:
        found = await viewer.api.get("matching", f"/requests/{request_id}/timeline")
    except NotFound:
        return None
    history = []
    for step in found.get("steps", []) if isinstance(found, dict) else []:
        kind, data = _STEP_EVENTS.get(step.get("step"), (None, {}))
        if kind:
            reason = {"decline_reason": step.get("reason")} if step.get("step") == "declined" else {}
            history.append({"type": kind, "at": step.get("at"), "data": {**step, **data, **reason}})
    return history


async def _status_page(
    viewer: Viewer, *, errors: dict[str, str] | None = None, conflict: str = "", status_code: int = 200
) -> HTMLResponse:
    found = await sections(
        requests=viewer.api.get("matching", "/requests", {"limit": 100}), everyone=mentors_by_id(viewer)
    )
    items = (found["requests"].value or {}).get("items", [])
    mine = [r for r in items if r["mentee_id"] == viewer.subject]
    current = next((r for r in reversed(mine) if is_open(r)), mine[-1] if mine else None)
    steps = []
    if current is not None:
        history = await section(_history(viewer, current["request_id"]))
        steps = timeline(current, history.value)
    now = viewer.portal.clock.now()
    return render(
        viewer,
        "mentee/request.html",
        status_code,
        down=found["requests"].down,
        current=current,
        earlier=[r for r in reversed(mine) if r is not current],
        steps=steps,
        everyone=found["everyone"].value or {},
        countdown=lambda deadline: countdown(deadline, now),
        is_open=is_open,
        errors=errors or {},
        conflict=conflict,
    )
