"""Scheduled meetings in the pair's pages: one meeting's page (the link of the "did it happen?" mail), proposing a
meeting from the workspace, and "my availability" (the weekly windows others propose within).

Every form posts to relationships' ``/relationships/{id}/meetings/...`` as the signed-in party. Times are typed as
``datetime-local`` in the person's time zone (the one relationships keeps for them, from their profile) and sent
with its offset; they are shown back in that zone. A meeting of a relationship the viewer is no party of is
relationships' 404, the portal's not-found page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.portal.adapters.i18n import N_
from services.portal.adapters.pages import pair
from services.portal.adapters.web import Form, Viewer, ViewerDep, checked_form, done, render, section
from services.portal.application import scheduling as sch
from services.portal.application.errors import Conflict, FieldErrors
from shared.auth import Role

router = APIRouter(include_in_schema=False)
NAV = [((Role.mentor, Role.mentee), "/availability", N_("My availability"))]


def _base(relationship_id: str) -> str:
    return f"/relationships/{relationship_id}/meetings"


async def my_zone(viewer: Viewer, relationship_id: str) -> str:
    """The viewer's time zone as relationships keeps it (UTC until their profile names one)."""
    found = await section(viewer.api.get("relationships", f"{_base(relationship_id)}/availability"), {})
    return ((found.value or {}).get(viewer.subject) or {}).get("time_zone") or "UTC"


def _candidates(form: Form, prefix: str, zone_name: str) -> tuple[list[str], list[int]]:
    typed = [form.one(f"{prefix}candidates.{i}") for i in range(sch.CANDIDATE_ROWS)]
    rows = sch.filled(typed)
    return [sch.local_to_aware(v, zone_name) for _, v in rows], [i for i, _ in rows]


# --- the meeting's page ---------------------------------------------------------------------------------------


@router.get("/relationships/{relationship_id}/meetings/{meeting_id}", response_class=HTMLResponse)
async def meeting_page(viewer: ViewerDep, relationship_id: str, meeting_id: str) -> HTMLResponse:
    return await _meeting(viewer, relationship_id, meeting_id)


async def _meeting(
    viewer: Viewer,
    relationship_id: str,
    meeting_id: str,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    conflict: str = "",
    values: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    meeting = await viewer.api.get("relationships", f"{_base(relationship_id)}/{meeting_id}")  # 404: not a party
    rel = await viewer.api.get("relationships", f"/relationships/{relationship_id}")
    zone_name = await my_zone(viewer, relationship_id)
    mentors = pair.mentors_of(rel)
    known = await pair.names(viewer, set(mentors), set(rel["mentee_ids"]))
    now = viewer.portal.clock.now()
    ends = meeting.get("ends_at")
    ended = bool(ends) and datetime.fromisoformat(str(ends)) <= now
    goals = {g["goal_id"]: g["text"] for g in rel.get("goals") or []}
    agenda = meeting.get("agenda") or {}
    return render(
        viewer,
        "meetings/meeting.html",
        status_code,
        rel=rel,
        meeting=meeting,
        names=known,
        zone=zone_name,
        at=lambda v: sch.shown(v, zone_name),
        candidates=[(str(c), sch.shown(c, zone_name)) for c in meeting.get("candidates") or []],
        agenda_goals=[goals.get(g, g) for g in agenda.get("goal_ids") or []],
        agenda_topics=agenda.get("topics") or [],
        may_accept=meeting["status"] == "proposed" and meeting.get("proposed_by") != viewer.subject,
        active=meeting["status"] in ("proposed", "accepted"),
        ended=ended and meeting["status"] == "accepted",
        rows=range(sch.CANDIDATE_ROWS),
        errs=lambda name: (errors or {}) if failed == name else None,
        failed=failed,
        conflict=conflict,
        values=values or Form(),
    )


async def _on_meeting(
    viewer: Viewer,
    relationship_id: str,
    meeting_id: str,
    form: Form,
    name: str,
    path: str,
    body: Any,
    flash: str,
    sent: list[int] | None = None,
) -> Response:
    try:
        await viewer.api.send("relationships", "POST", f"{_base(relationship_id)}/{meeting_id}{path}", body)
    except FieldErrors as exc:
        fields = _topics_at_their_field(sch.rows_back(exc.fields, "candidates", sent or []))
        return await _meeting(
            viewer, relationship_id, meeting_id, failed=name, errors=fields, values=form, status_code=422
        )
    except Conflict as exc:
        return await _meeting(
            viewer, relationship_id, meeting_id, failed=name, conflict=exc.detail, values=form, status_code=409
        )
    return done(f"{_base(relationship_id)}/{meeting_id}", flash)


def _topics_at_their_field(fields: dict[str, str]) -> dict[str, str]:
    """A refused topic (``topics.N``) is shown at the topics' fieldset, one checkbox group."""
    shown = {k: v for k, v in fields.items() if not k.startswith("topics.")}
    refused = [v for k, v in fields.items() if k.startswith("topics.")]
    if refused:
        shown["topics"] = "; ".join(([shown["topics"]] if "topics" in shown else []) + refused)
    return shown


@router.post("/relationships/{relationship_id}/meetings/{meeting_id}/acceptance", response_class=HTMLResponse)
async def accept(viewer: ViewerDep, relationship_id: str, meeting_id: str) -> Response:
    form = await checked_form(viewer)
    body = {"starts_at": form.one("starts_at")}
    return await _on_meeting(
        viewer, relationship_id, meeting_id, form, "accept", "/acceptance", body, "meeting_accepted"
    )


@router.post("/relationships/{relationship_id}/meetings/{meeting_id}/reschedule", response_class=HTMLResponse)
async def reschedule(viewer: ViewerDep, relationship_id: str, meeting_id: str) -> Response:
    form = await checked_form(viewer)
    candidates, sent = _candidates(form, "", await my_zone(viewer, relationship_id))
    body: dict[str, Any] = {"candidates": candidates}
    if form.one("duration_minutes"):
        body["duration_minutes"] = form.one("duration_minutes")
    return await _on_meeting(
        viewer, relationship_id, meeting_id, form, "reschedule", "/reschedule", body, "meeting_rescheduled", sent
    )


@router.post("/relationships/{relationship_id}/meetings/{meeting_id}/cancellation", response_class=HTMLResponse)
async def cancel(viewer: ViewerDep, relationship_id: str, meeting_id: str) -> Response:
    form = await checked_form(viewer)
    flash = "meeting_not_held" if form.one("answer") == "not_held" else "meeting_cancelled"
    return await _on_meeting(viewer, relationship_id, meeting_id, form, "cancel", "/cancellation", None, flash)


@router.post("/relationships/{relationship_id}/meetings/{meeting_id}/held", response_class=HTMLResponse)
async def held(viewer: ViewerDep, relationship_id: str, meeting_id: str) -> Response:
    form = await checked_form(viewer)
    body: dict[str, Any] = {"notes": form.one("notes") or None}
    if form.one("duration_minutes"):
        body["duration_minutes"] = form.one("duration_minutes")
    if form.one("topics_shown"):  # the form offered the topics: none ticked means none covered
        body["topics"] = form.many("topics")
    return await _on_meeting(viewer, relationship_id, meeting_id, form, "held", "/held", body, "meeting_held")


# --- proposing from the workspace -------------------------------------------------------------------------------

PROPOSAL = "proposal."


@router.post("/relationships/{relationship_id}/meetings/proposals", response_class=HTMLResponse)
async def propose(viewer: ViewerDep, relationship_id: str) -> Response:
    form = await checked_form(viewer)
    candidates, sent = _candidates(form, PROPOSAL, await my_zone(viewer, relationship_id))
    body = {
        "candidates": candidates,
        "duration_minutes": form.one(f"{PROPOSAL}duration_minutes"),
        "agenda_goals": form.many(f"{PROPOSAL}agenda_goals") or None,  # none ticked: the goals in progress
        "agenda_topics": form.many(f"{PROPOSAL}agenda_topics"),
        "format": form.one(f"{PROPOSAL}format") or "video",
    }
    try:
        made = await viewer.api.send("relationships", "POST", f"{_base(relationship_id)}/proposals", body)
    except FieldErrors as exc:
        fields = {PROPOSAL + k: v for k, v in sch.rows_back(exc.fields, "candidates", sent).items()}
        return await pair.render_workspace(
            viewer, relationship_id, failed="proposal", errors=fields, values=form, status_code=422
        )
    except Conflict as exc:
        return await pair.render_workspace(
            viewer, relationship_id, failed="proposal", conflict=exc.detail, values=form, status_code=409
        )
    return done(f"{_base(relationship_id)}/{made['meeting_id']}", "meeting_proposed")


# --- my availability ------------------------------------------------------------------------------------------


async def _first_relationship(viewer: Viewer) -> str | None:
    """Windows hold for all of a person's relationships; relationships takes them through any one of them."""
    found = await viewer.api.get("relationships", "/relationships", {"limit": pair.LIST_LIMIT})
    open_ones = [r["relationship_id"] for r in found["items"] if r["phase"] != "closed"]
    return open_ones[0] if open_ones else None


@router.get("/availability", response_class=HTMLResponse)
async def availability(viewer: ViewerDep) -> HTMLResponse:
    return await _availability(viewer)


async def _availability(
    viewer: Viewer, *, errors: dict[str, str] | None = None, values: Form | None = None, status_code: int = 200
) -> HTMLResponse:
    relationship_id = await _first_relationship(viewer)
    mine: dict[str, Any] = {}
    if relationship_id:
        everyone = await viewer.api.get("relationships", f"{_base(relationship_id)}/availability")
        mine = everyone.get(viewer.subject) or {}
    if values is not None:
        count = _row_count(values)
        rows = [{k: values.one(f"windows.{i}.{k}") for k in ("weekday", "start", "end")} for i in range(count)]
    else:
        rows = [{k: str(w[k]) for k in ("weekday", "start", "end")} for w in mine.get("windows") or []]
        rows += [{"weekday": "0", "start": "", "end": ""}] * sch.WINDOW_ROWS
    return render(
        viewer,
        "meetings/availability.html",
        status_code,
        relationship_id=relationship_id,
        zone=mine.get("time_zone") or "UTC",
        rows=rows,
        weekdays=sch.WEEKDAYS,
        errors=errors or {},
    )


def _row_count(form: Form) -> int:
    count = 0
    while f"windows.{count}.weekday" in form and count < 40:
        count += 1
    return count


@router.post("/availability", response_class=HTMLResponse)
async def set_availability(viewer: ViewerDep) -> Response:
    form = await checked_form(viewer)
    relationship_id = await _first_relationship(viewer)
    if relationship_id is None:
        return done("/availability", "")
    rows = [
        (i, {k: form.one(f"windows.{i}.{k}") for k in ("weekday", "start", "end")}) for i in range(_row_count(form))
    ]
    sent = [(i, row) for i, row in rows if row["start"] or row["end"]]
    body = {"windows": [row for _, row in sent]}
    try:
        await viewer.api.send("relationships", "PUT", f"{_base(relationship_id)}/availability", body)
    except FieldErrors as exc:
        fields = sch.rows_back(exc.fields, "windows", [i for i, _ in sent])
        fields = {(k + ".start" if k.count(".") == 1 and k.startswith("windows.") else k): v for k, v in fields.items()}
        return await _availability(viewer, errors=fields, values=form, status_code=422)
    return done("/availability", "availability")
