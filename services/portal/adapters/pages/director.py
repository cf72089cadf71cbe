"""The program director's pages: the review queue, the unmatched queue with suggestions and an admin match, bulk
matching (propose a run for a cohort, read its report, pin or forbid pairs, commit or discard), the program's
settings and the lagging relationships. Each form posts to matching or relationships as the director; a refusal
comes back next to the field it names (422) or as "someone changed this" (409).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from services.portal.adapters.i18n import N_
from services.portal.adapters.pages.pair import names, relationship_names
from services.portal.adapters.web import Form, Viewer, ViewerDep, checked_form, done, render, section
from services.portal.application.errors import Conflict, FieldErrors, Refused
from shared.auth import Role


async def _director(viewer: ViewerDep) -> None:
    """Every page and form here is the program director's (a router dependency: it reads the route's own viewer,
    which FastAPI resolves once a request)."""
    if not viewer.has(Role.admin):
        raise Refused("portal", 403, "These pages are the program director's.")


router = APIRouter(include_in_schema=False, dependencies=[Depends(_director)])
NAV = [((Role.admin,), "/director", N_("Program director"))]

QUEUE_LIMIT = 100
PAIRS_SHOWN = 200
"""A bulk run's pairs shown on its page (with names); the rest are counted."""
WEIGHTS = ("specialty", "interests", "career_stage", "language", "time_zone", "preferences")
ALL_FREE = "all mentees with no open request and no mentor"
"""The cohort's name matching gives a run over every free mentee (a run for named mentees names how many)."""
_IDS = re.compile(r"[\s,;]+")


@router.get("/director", response_class=HTMLResponse)
async def overview(viewer: ViewerDep) -> HTMLResponse:
    found = await asyncio.gather(
        section(viewer.api.get("matching", "/requests", {"status": "submitted", "limit": QUEUE_LIMIT})),
        section(viewer.api.get("matching", "/requests", {"status": "unmatched", "limit": QUEUE_LIMIT})),
        section(viewer.api.get("matching", "/bulk-runs", {"status": "proposed", "limit": 50})),
        section(viewer.api.get("relationships", "/relationships", {"lagging": "true", "limit": QUEUE_LIMIT})),
    )
    reviews, unmatched, runs, lagging = found
    return render(viewer, "director/overview.html", reviews=reviews, unmatched=unmatched, runs=runs, lagging=lagging)


# --- the review queue --------------------------------------------------------------------------------------


@router.get("/director/reviews", response_class=HTMLResponse)
async def reviews(viewer: ViewerDep) -> HTMLResponse:
    return await _reviews(viewer)


async def _reviews(
    viewer: Viewer,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    conflict: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    queue, programs = await asyncio.gather(
        section(viewer.api.get("matching", "/requests", {"status": "submitted", "limit": QUEUE_LIMIT})),
        section(viewer.api.get("matching", "/programs")),
    )
    return render(
        viewer,
        "director/reviews.html",
        status_code,
        queue=queue,
        program_names={p["program_id"]: p["name"] for p in (programs.value or {}).get("programs", [])},
        items=queue.value["items"] if queue.value else [],
        errs=lambda name: (errors or {}) if failed == name else None,
        conflict=conflict,
    )


@router.post("/director/requests/{request_id}/review", response_class=HTMLResponse)
async def review(viewer: ViewerDep, request_id: str) -> Response:
    form = await checked_form(viewer)
    approved = form.one("decision") == "approve"
    reason = form.one(f"decline_reason.{request_id}")
    body = {"approved": approved, "decline_reason": None if approved else (reason or None)}
    try:
        await viewer.api.send("matching", "POST", f"/requests/{request_id}/review", body)
    except FieldErrors as exc:
        fields = {f"{k}.{request_id}" if k == "decline_reason" else k: v for k, v in exc.fields.items()}
        return await _reviews(viewer, failed=request_id, errors=fields, status_code=422)
    except Conflict as exc:
        return await _reviews(viewer, conflict=exc.detail, status_code=409)
    return done("/director/reviews", "director_approved" if approved else "director_declined")


# --- the unmatched queue -----------------------------------------------------------------------------------


@router.get("/director/unmatched", response_class=HTMLResponse)
async def unmatched(viewer: ViewerDep) -> HTMLResponse:
    queue = await section(viewer.api.get("matching", "/requests", {"status": "unmatched", "limit": QUEUE_LIMIT}))
    items = queue.value["items"] if queue.value else []
    return render(viewer, "director/unmatched.html", queue=queue, items=items)


@router.get("/director/unmatched/{request_id}", response_class=HTMLResponse)
async def unmatched_request(viewer: ViewerDep, request_id: str) -> HTMLResponse:
    return await _unmatched_request(viewer, request_id)


async def _unmatched_request(
    viewer: Viewer,
    request_id: str,
    *,
    errors: dict[str, str] | None = None,
    conflict: str = "",
    typed: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    request = await viewer.api.get("matching", f"/requests/{request_id}")
    suggestions = await section(
        viewer.api.get("matching", f"/mentees/{request['mentee_id']}/suggestions", {"k": 5}), {"items": []}
    )
    items = suggestions.value["items"] if suggestions.value else []
    known = await names(viewer, {s["mentor_id"] for s in items}, set()) if items else {}
    return render(
        viewer,
        "director/unmatched_request.html",
        status_code,
        asked=request,
        suggestions=suggestions,
        items=items,
        names={**request.get("mentor_names", {}), **known},
        errors=errors or {},
        conflict=conflict,
        typed=typed,
    )


@router.post("/director/requests/{request_id}/match", response_class=HTMLResponse)
async def admin_match(viewer: ViewerDep, request_id: str) -> Response:
    form = await checked_form(viewer)
    mentor_id = form.one("mentor_id")
    try:
        await viewer.api.send("matching", "POST", f"/requests/{request_id}/match", {"mentor_id": mentor_id})
    except FieldErrors as exc:
        return await _unmatched_request(viewer, request_id, errors=exc.fields, typed=mentor_id, status_code=422)
    except Conflict as exc:
        return await _unmatched_request(viewer, request_id, conflict=exc.detail, typed=mentor_id, status_code=409)
    return done("/director/unmatched", "director_matched")


# --- bulk matching -----------------------------------------------------------------------------------------


def _ids(text: str) -> list[str]:
    return [part for part in _IDS.split(text) if part]


def _pairs(text: str, field: str, errors: dict[str, str]) -> list[tuple[str, str]]:
    """``mentee mentor`` per line; a line that is not two ids is an error named by the field."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        ids = _ids(line)
        if not ids:
            continue
        if len(ids) != 2:
            errors.setdefault(field, f"line {number}: write a mentee id, then a mentor id")
            continue
        pairs.append((ids[0], ids[1]))
    return pairs


def _run_body(form: Form, errors: dict[str, str], *, pins: list[tuple[str, str]], forbids: list[tuple[str, str]]):
    cohort = _ids(form.one("mentee_ids"))
    pinned = dict(pins + _pairs(form.one("pinned"), "pinned", errors))
    forbidden = forbids + _pairs(form.one("forbidden"), "forbidden", errors)
    return {
        "mode": form.one("mode"),
        "program_id": form.one("program_id") or "default",
        "mentee_ids": cohort or None,
        "pinned": pinned,
        "forbidden": [{"mentee_id": a, "mentor_id": b} for a, b in forbidden],
    }


def _bulk_fields(fields: dict[str, str]) -> dict[str, str]:
    """``forbidden.3.mentor_id`` → ``forbidden``: the textarea the director typed it in."""
    shown: dict[str, str] = {}
    for key, reason in fields.items():
        shown.setdefault(key.split(".")[0], reason)
    return shown


@router.get("/director/bulk", response_class=HTMLResponse)
async def bulk_runs(viewer: ViewerDep) -> HTMLResponse:
    return await _bulk_runs(viewer)


async def _bulk_runs(
    viewer: Viewer, *, errors: dict[str, str] | None = None, values: Form | None = None, status_code: int = 200
) -> HTMLResponse:
    runs, programs = await asyncio.gather(
        section(viewer.api.get("matching", "/bulk-runs", {"limit": 50})),
        section(viewer.api.get("matching", "/programs")),
    )
    return render(
        viewer,
        "director/bulk.html",
        status_code,
        runs=runs,
        programs=[(p["program_id"], p["name"]) for p in (programs.value or {}).get("programs", [])]
        or [("default", "default")],
        program_names={p["program_id"]: p["name"] for p in (programs.value or {}).get("programs", [])},
        items=runs.value["items"] if runs.value else [],
        errors=errors or {},
        values=values or Form(),
    )


@router.post("/director/bulk", response_class=HTMLResponse)
async def propose(viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    errors: dict[str, str] = {}
    body = _run_body(form, errors, pins=[], forbids=[])
    if errors:
        return await _bulk_runs(viewer, errors=errors, values=form, status_code=422)
    try:
        run = await viewer.api.send("matching", "POST", "/bulk-runs", body)
    except FieldErrors as exc:
        return await _bulk_runs(viewer, errors=_bulk_fields(exc.fields), values=form, status_code=422)
    return done(f"/director/bulk/{run['run_id']}", "director_bulk_proposed")


@router.get("/director/bulk/{run_id}", response_class=HTMLResponse)
async def bulk_run(viewer: ViewerDep, run_id: str) -> HTMLResponse:
    return await _bulk_run(viewer, run_id)


async def _bulk_run(
    viewer: Viewer,
    run_id: str,
    *,
    errors: dict[str, str] | None = None,
    conflict: str = "",
    values: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    run = await viewer.api.get("matching", f"/bulk-runs/{run_id}")
    shown = run["pairs"][:PAIRS_SHOWN]
    circles = run.get("circles") or []
    members = {m for c in circles for m in c["member_ids"]}
    mentees = {p["mentee_id"] for p in shown} | members
    known = await names(viewer, {p["mentor_id"] for p in shown}, mentees) if shown or members else {}
    report = run.get("report") or {}
    scores = [p["score"] for p in run["pairs"]]
    return render(
        viewer,
        "director/bulk_run.html",
        status_code,
        run=run,
        report=report,
        pairs=shown,
        circles=circles,
        more=len(run["pairs"]) - len(shown),
        names=known,
        distribution=_distribution(scores),
        cohort="" if run.get("cohort") == ALL_FREE else "\n".join(p["mentee_id"] for p in run["pairs"]),
        errors=errors or {},
        conflict=conflict,
        values=values,
    )


def _distribution(scores: list[int]) -> list[tuple[str, int, int]]:
    """Scores (0-100) in five bands: (band, pairs, percent of pairs) for the report's bar chart."""
    bands = [(f"{low}-{low + 19 if low < 80 else 100}", low) for low in range(0, 100, 20)]
    counts = [sum(1 for s in scores if low <= s < low + 20 or (low == 80 and s == 100)) for _, low in bands]
    total = max(len(scores), 1)
    return [(label, count, round(100 * count / total)) for (label, _), count in zip(bands, counts, strict=True)]


@router.post("/director/bulk/{run_id}/revise", response_class=HTMLResponse)
async def revise(viewer: ViewerDep, run_id: str) -> Response:
    """Propose the run again with the pairs ticked as pinned or forbidden (and any typed), and discard this one."""
    form = await checked_form(viewer)
    errors: dict[str, str] = {}
    pins = [tuple(p.split(" ", 1)) for p in form.many("pin") if " " in p]
    forbids = [tuple(p.split(" ", 1)) for p in form.many("forbid") if " " in p]
    body = _run_body(form, errors, pins=pins, forbids=forbids)  # type: ignore[arg-type]
    if errors:
        return await _bulk_run(viewer, run_id, errors=errors, values=form, status_code=422)
    try:
        run = await viewer.api.send("matching", "POST", "/bulk-runs", body)
    except FieldErrors as exc:
        return await _bulk_run(viewer, run_id, errors=_bulk_fields(exc.fields), values=form, status_code=422)
    with contextlib.suppress(Conflict):  # already committed or discarded: the new proposal stands on its own
        await viewer.api.send("matching", "POST", f"/bulk-runs/{run_id}/discard")
    return done(f"/director/bulk/{run['run_id']}", "director_bulk_proposed")


@router.post("/director/bulk/{run_id}/commit", response_class=HTMLResponse)
async def commit(viewer: ViewerDep, run_id: str) -> Response:
    return await _settle(viewer, run_id, "commit", f"/director/bulk/{run_id}", "director_bulk_committed")


@router.post("/director/bulk/{run_id}/discard", response_class=HTMLResponse)
async def discard(viewer: ViewerDep, run_id: str) -> Response:
    return await _settle(viewer, run_id, "discard", "/director/bulk", "director_bulk_discarded")


async def _settle(viewer: Viewer, run_id: str, action: str, then: str, flash: str) -> Response:
    """Commit or discard a proposed run; a run settled meanwhile shows its page with the conflict (409)."""
    await checked_form(viewer)
    try:
        await viewer.api.send("matching", "POST", f"/bulk-runs/{run_id}/{action}")
    except Conflict as exc:
        return await _bulk_run(viewer, run_id, conflict=exc.detail, status_code=409)
    return done(then, flash)


# --- the program's settings --------------------------------------------------------------------------------


@router.get("/director/program", response_class=HTMLResponse)
async def program(viewer: ViewerDep) -> HTMLResponse:
    return await _program(viewer)


async def _program(
    viewer: Viewer,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    values: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings = await viewer.api.get("matching", "/programs/default")
    weights = {k: str(v) for k, v in settings["weights"].items()}
    days = str(settings["response_days"])
    if values is not None and failed == "weights":
        weights = {k: values.one(k) for k in WEIGHTS}
    if values is not None and failed == "deadline":
        days = values.one("days")
    return render(
        viewer,
        "director/program.html",
        status_code,
        weights=weights,
        weight_names=WEIGHTS,
        days=days,
        errs=lambda name: (errors or {}) if failed == name else None,
    )


@router.post("/director/program/weights", response_class=HTMLResponse)
async def put_weights(viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    body = {k: form.one(k) for k in WEIGHTS}
    try:
        await viewer.api.send("matching", "PUT", "/programs/default/weights", body)
    except FieldErrors as exc:
        return await _program(viewer, failed="weights", errors=exc.fields, values=form, status_code=422)
    return done("/director/program", "director_weights")


@router.post("/director/program/deadline", response_class=HTMLResponse)
async def put_deadline(viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    try:
        await viewer.api.send("matching", "PUT", "/programs/default/response-deadline", {"days": form.one("days")})
    except FieldErrors as exc:
        return await _program(viewer, failed="deadline", errors=exc.fields, values=form, status_code=422)
    return done("/director/program", "director_deadline")


# --- lagging relationships ---------------------------------------------------------------------------------


@router.get("/director/lagging", response_class=HTMLResponse)
async def lagging(viewer: ViewerDep) -> HTMLResponse:
    found = await section(viewer.api.get("relationships", "/relationships", {"lagging": "true", "limit": QUEUE_LIMIT}))
    items: list[dict[str, Any]] = found.value["items"] if found.value else []
    known = await relationship_names(viewer, items)
    return render(
        viewer,
        "director/lagging.html",
        lagging=found,
        items=items,
        names=known,
    )
