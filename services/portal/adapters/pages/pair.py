"""The pair's pages: "my relationships" and the relationship workspace.

The workspace shows the introduction (the other party's card, and for the mentor what the mentee wrote in the
request), the agreement being negotiated (terms, revision, signatures) with the forms to propose a revision and to
sign it, the cadence (next meeting due by, lagging), goals and their progress, meetings with the notes only the pair
reads, the annual review, closure (no fault, with or without a rematch) and links to the surveys the reader has to
answer (their pages are ``surveys.py``'s). Every form posts to the relationships API as the signed-in party; a
refusal comes back next to the field it names (422) or as "someone
changed this" (409).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.portal.adapters.i18n import N_
from services.portal.adapters.web import Form, Section, Viewer, ViewerDep, checked_form, done, render, section
from services.portal.application.errors import ApiError, Conflict, FieldErrors, ServiceDown
from services.portal.application.scheduling import CANDIDATE_ROWS, shown
from shared.auth import Role

router = APIRouter(include_in_schema=False)
NAV = [((Role.mentor, Role.mentee), "/relationships", N_("My relationships"))]

GOAL_ROWS = 3
"""Goal rows the agreement form offers (a revision keeps every goal of the draft, plus empty rows up to this)."""
PLAN_ROWS = 3
LIST_LIMIT = 50


def today(viewer: Viewer) -> date:
    """The portal's day (the services' clock), for the forms' defaults."""
    return viewer.portal.clock.now().date()


async def names(viewer: Viewer, mentor_ids: set[str], mentee_ids: set[str]) -> dict[str, str]:
    """Names from matching's cards where the viewer may read them (a card they may not read keeps the id)."""

    async def one(path: str, person: str) -> tuple[str, str | None]:
        try:
            return person, (await viewer.api.get("matching", path))["name"]
        except (ApiError, ServiceDown, KeyError, TypeError):  # a card they may not read (or none): the id shows
            return person, None

    calls = [one(f"/directory/mentors/{m}", m) for m in sorted(mentor_ids)]
    calls += [one(f"/mentees/{m}", m) for m in sorted(mentee_ids)]
    found = await asyncio.gather(*calls)
    return {person: name for person, name in found if name}


def mentors_of(rel: dict[str, Any]) -> list[str]:
    """A relationship's mentors, the lead first (a group's co-mentors after; none for a peer circle)."""
    listed = rel.get("mentors") or [rel.get("mentor_id"), *(rel.get("co_mentor_ids") or [])]
    return [m for m in listed if m]


async def relationship_names(viewer: Viewer, relationships: list[dict[str, Any]]) -> dict[str, str]:
    """``names`` of the mentors and mentees (a circle's members) of these relationships."""
    mentees = {m for r in relationships for m in r["mentee_ids"]}
    return await names(viewer, {m for r in relationships for m in mentors_of(r)}, mentees)


async def my_relationships_by_program(viewer: Viewer) -> tuple[Section, list[tuple[str, list[dict[str, Any]]]]]:
    """The viewer's relationships, each with ``partner`` (everyone else in it, by name) and ``mentoring`` (the
    viewer is one of its mentors), grouped by program (the program's name; "default" first)."""
    found = await section(viewer.api.get("relationships", "/relationships", {"limit": LIST_LIMIT}))
    items = found.value["items"] if found.value else []
    listed = await section(viewer.api.get("matching", "/programs")) if items else Section({})
    program_names = {p["program_id"]: p["name"] for p in (listed.value or {}).get("programs", [])}
    known = await relationship_names(viewer, items)
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in items:
        mentors = mentors_of(r)
        others = [p for p in (*mentors, *r["mentee_ids"]) if p != viewer.subject]
        r["partner"] = ", ".join(known.get(o, o) for o in others)
        r["mentoring"] = viewer.subject in mentors
        program_id = r.get("program_id") or "default"
        groups.setdefault(program_names.get(program_id, program_id), []).append(r)
    default = program_names.get("default", "default")
    ordered = sorted(groups.items(), key=lambda g: (g[0] != default, g[0]))
    return found, ordered


@router.get("/relationships", response_class=HTMLResponse)
async def my_relationships(viewer: ViewerDep) -> HTMLResponse:
    found, programs = await my_relationships_by_program(viewer)
    items = [r for _, rs in programs for r in rs]
    return render(viewer, "pair/list.html", relationships=found, items=items, programs=programs)


@router.get("/relationships/{relationship_id}", response_class=HTMLResponse)
async def workspace(viewer: ViewerDep, relationship_id: str) -> HTMLResponse:
    return await _workspace(viewer, relationship_id)


async def _workspace(
    viewer: Viewer,
    relationship_id: str,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    conflict: str = "",
    values: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rel = await viewer.api.get("relationships", f"/relationships/{relationship_id}")
    mentors = mentors_of(rel)
    party = viewer.subject in mentors or viewer.subject in rel["mentee_ids"]
    notes = Section([])
    if party:  # the notes are the pair's only: the director is not even asked them
        notes = await section(viewer.api.get("relationships", f"/relationships/{relationship_id}/notes"), [])
    known = await names(viewer, set(mentors), set(rel["mentee_ids"]))
    intro = Section()
    model = rel.get("model", "one_to_one")
    if viewer.subject in mentors and rel.get("match_id") and model == "one_to_one":
        intro = await section(viewer.api.get("matching", f"/requests/{rel['match_id']}"))
    is_mentor = viewer.subject in mentors
    scheduled, zone_name = Section([]), "UTC"
    if party:  # the pair's scheduled meetings and the viewer's time zone (times are typed and shown in it)
        base = f"/relationships/{relationship_id}/meetings"
        scheduled = await section(viewer.api.get("relationships", f"{base}/scheduled"), {"items": []})
        calendars = await section(viewer.api.get("relationships", f"{base}/availability"), {})
        zone_name = ((calendars.value or {}).get(viewer.subject) or {}).get("time_zone") or "UTC"
    upcoming = [m for m in (scheduled.value or {}).get("items", []) if m["status"] in ("proposed", "accepted")]
    mentee_names = ", ".join(known.get(m, m) for m in rel["mentee_ids"])
    others = [p for p in (*mentors, *rel["mentee_ids"]) if p != viewer.subject]
    return render(
        viewer,
        "pair/workspace.html",
        status_code,
        rel=rel,
        party=party,
        is_mentor=is_mentor,
        mentee_names=mentee_names,
        partner=", ".join(known.get(p, p) for p in others) if model != "one_to_one" or not is_mentor else mentee_names,
        model=model,
        mentors=mentors,
        everyone=[*mentors, *rel["mentee_ids"]],
        errs=lambda name: (errors or {}) if failed == name else None,
        notes=notes,
        names=known,
        intro=intro,
        agreement_rows=_agreement_rows(rel.get("agreement"), values),
        today=today(viewer).isoformat(),
        scheduled=scheduled,
        upcoming=upcoming,
        zone=zone_name,
        at=lambda v: shown(v, zone_name),
        candidate_rows=range(CANDIDATE_ROWS),
        failed=failed,
        errors=errors or {},
        conflict=conflict,
        values=values or Form(),
    )


render_workspace = _workspace
"""The workspace with a refusal shown (the meetings' forms post elsewhere and come back here)."""


async def _act(
    viewer: Viewer,
    relationship_id: str,
    form: Form,
    name: str,
    method: str,
    path: str,
    body: Any,
    flash: str,
    renamed: dict[str, str] | None = None,
) -> Response:
    """Send one command; back to the workspace with what was done, or the workspace with the refusal shown.
    ``renamed``: the service's field → the form's (where one page holds two forms with a field of that name)."""
    try:
        await viewer.api.send("relationships", method, f"/relationships/{relationship_id}{path}", body)
    except FieldErrors as exc:
        fields = {(renamed or {}).get(k, k): v for k, v in _form_fields(name, exc.fields, form).items()}
        return await _workspace(viewer, relationship_id, failed=name, errors=fields, values=form, status_code=422)
    except Conflict as exc:
        return await _workspace(viewer, relationship_id, failed=name, conflict=exc.detail, values=form, status_code=409)
    return done(f"/relationships/{relationship_id}", flash)


# --- the agreement ---------------------------------------------------------------------------------------


def _agreement_rows(agreement: dict[str, Any] | None, posted: Form | None) -> dict[str, Any]:
    """The agreement form's values: what was posted (after a refusal), else the draft's terms, else defaults."""
    terms = (agreement or {}).get("terms") or {}
    goals = list(terms.get("goals") or [])
    plan = list(terms.get("development_plan") or [])
    rows = {
        "cadence_weeks_min": str(terms.get("cadence_weeks_min", 6)),
        "cadence_weeks_max": str(terms.get("cadence_weeks_max", 8)),
        "format": terms.get("format", "video"),
        "review_due_on": terms.get("review_due_on") or "",
        "goals": [{k: str(g.get(k) or "") for k in ("goal_id", "text", "measure", "due_on")} for g in goals]
        + [{"goal_id": "", "text": "", "measure": "", "due_on": ""}] * max(GOAL_ROWS - len(goals), 1),
        "plan": [{k: str(m.get(k) or "") for k in ("title", "due_on")} for m in plan]
        + [{"title": "", "due_on": ""}] * max(PLAN_ROWS - len(plan), 1),
    }
    if posted:
        for key in ("cadence_weeks_min", "cadence_weeks_max", "format", "review_due_on"):
            rows[key] = posted.one(key)
        rows["goals"] = [
            {k: posted.one(f"goals.{i}.{k}") for k in ("goal_id", "text", "measure", "due_on")}
            for i in range(len(rows["goals"]))
        ]
        rows["plan"] = [
            {k: posted.one(f"development_plan.{i}.{k}") for k in ("title", "due_on")} for i in range(len(rows["plan"]))
        ]
    return rows


def _filled_rows(form: Form, prefix: str, keys: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """The form's rows ``prefix.N.key`` that have anything in them, with their form index."""
    rows, index = [], 0
    while any(f"{prefix}.{index}.{k}" in form for k in keys) and index < 60:
        row = {k: form.one(f"{prefix}.{index}.{k}") for k in keys}
        if any(v for k, v in row.items() if k != "goal_id"):
            rows.append((index, row))
        index += 1
    return rows


def _form_fields(name: str, fields: dict[str, str], form: Form) -> dict[str, str]:
    """The service's field paths as the posted form named them (rows left empty were not sent)."""
    if name != "agreement":
        return fields
    maps = {
        "goals": [i for i, _ in _filled_rows(form, "goals", ("goal_id", "text", "measure", "due_on"))],
        "development_plan": [i for i, _ in _filled_rows(form, "development_plan", ("title", "due_on"))],
    }
    renamed = {}
    for key, reason in fields.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] in maps and parts[1].isdigit() and int(parts[1]) < len(maps[parts[0]]):
            parts[1] = str(maps[parts[0]][int(parts[1])])
            if len(parts) == 2:  # the whole row: shown at its first field
                parts.append("text" if parts[0] == "goals" else "title")
        renamed[".".join(parts)] = reason
    return renamed


def _or_none(value: str) -> str | None:
    return value or None


@router.post("/relationships/{relationship_id}/agreement", response_class=HTMLResponse)
async def propose_agreement(viewer: ViewerDep, relationship_id: str) -> Response:
    form = await checked_form(viewer)
    goals = [
        {
            "goal_id": row["goal_id"] or uuid.uuid4().hex[:12],
            "text": row["text"],
            "measure": row["measure"],
            "due_on": _or_none(row["due_on"]),
        }
        for _, row in _filled_rows(form, "goals", ("goal_id", "text", "measure", "due_on"))
    ]
    plan = [
        {"title": row["title"], "due_on": _or_none(row["due_on"])}
        for _, row in _filled_rows(form, "development_plan", ("title", "due_on"))
    ]
    body = {
        "cadence_weeks_min": form.one("cadence_weeks_min"),
        "cadence_weeks_max": form.one("cadence_weeks_max"),
        "format": form.one("format"),
        "goals": goals,
        "development_plan": plan,
        "review_due_on": _or_none(form.one("review_due_on")),
    }
    return await _act(viewer, relationship_id, form, "agreement", "PUT", "/agreement", body, "pair_proposed")


@router.post("/relationships/{relationship_id}/signature", response_class=HTMLResponse)
async def sign(viewer: ViewerDep, relationship_id: str) -> Response:
    form = await checked_form(viewer)
    body = {
        "revision": form.one("revision"),
        "confidentiality_accepted": form.one("confidentiality_accepted") == "yes",
        "no_fault_termination_acknowledged": form.one("no_fault_termination_acknowledged") == "yes",
    }
    return await _act(viewer, relationship_id, form, "signature", "POST", "/agreement/signatures", body, "pair_signed")


# --- meetings, goals, review, closure ---------------------------------------------------------------------


@router.post("/relationships/{relationship_id}/meetings", response_class=HTMLResponse)
async def log_meeting(viewer: ViewerDep, relationship_id: str) -> Response:
    form = await checked_form(viewer)
    body = {
        "held_on": _or_none(form.one("held_on")),
        "duration_minutes": form.one("duration_minutes"),
        "format": form.one("meeting_format"),
        "topic_tags": form.many("topic_tags"),
        "notes": _or_none(form.one("notes")),
    }
    if form.one("attendance") == "ticked":  # a group's or circle's meeting: the attendees ticked
        body["attendee_ids"] = form.many("attendee_ids")
    renamed = {"format": "meeting_format"}
    return await _act(viewer, relationship_id, form, "meeting", "POST", "/meetings", body, "pair_meeting", renamed)


@router.post("/relationships/{relationship_id}/leave", response_class=HTMLResponse)
async def leave(viewer: ViewerDep, relationship_id: str) -> Response:
    """A member leaves a group or a circle (the others carry on; too few left and it closes)."""
    form = await checked_form(viewer)
    path = f"/members/{viewer.subject}/leave"
    try:
        await viewer.api.send("relationships", "POST", f"/relationships/{relationship_id}{path}")
    except Conflict as exc:
        return await _workspace(
            viewer, relationship_id, failed="leave", conflict=exc.detail, values=form, status_code=409
        )
    return done("/relationships", "pair_left")


@router.post("/relationships/{relationship_id}/goals", response_class=HTMLResponse)
async def set_goal(viewer: ViewerDep, relationship_id: str) -> Response:
    form = await checked_form(viewer)
    body = {"text": form.one("text"), "measure": form.one("measure"), "due_on": _or_none(form.one("due_on"))}
    return await _act(viewer, relationship_id, form, "goal", "POST", "/goals", body, "pair_goal")


@router.post("/relationships/{relationship_id}/goals/{goal_id}/progress", response_class=HTMLResponse)
async def progress_goal(viewer: ViewerDep, relationship_id: str, goal_id: str) -> Response:
    form = await checked_form(viewer)
    prefix = f"progress.{goal_id}"
    body = {"status": form.one(f"{prefix}.status"), "progress_percent": form.one(f"{prefix}.progress_percent") or "0"}
    path, renamed = f"/goals/{goal_id}/progress", {k: f"{prefix}.{k}" for k in ("status", "progress_percent")}
    name = f"progress-{goal_id}"
    return await _act(viewer, relationship_id, form, name, "POST", path, body, "pair_progress", renamed)


@router.post("/relationships/{relationship_id}/review", response_class=HTMLResponse)
async def review(viewer: ViewerDep, relationship_id: str) -> Response:
    form = await checked_form(viewer)
    body = {"outcome": form.one("outcome"), "next_review_due_on": _or_none(form.one("next_review_due_on"))}
    return await _act(viewer, relationship_id, form, "review", "POST", "/reviews", body, "pair_reviewed")


@router.post("/relationships/{relationship_id}/closure", response_class=HTMLResponse)
async def close(viewer: ViewerDep, relationship_id: str) -> Response:
    form = await checked_form(viewer)
    body = {"reason": form.one("reason"), "rematch_requested": form.one("rematch_requested") == "yes"}
    return await _act(viewer, relationship_id, form, "closure", "POST", "/closure", body, "pair_closed")
