"""Programs: the director's programs (list, create, edit every setting, enrolments, forming a group) and the
participants' programs page (the programs one may enrol in, enrol, leave).

Every form posts to matching's programs API as the signed-in person; a refusal comes back next to the field it
names (422, with what was typed kept) or as "someone changed this meanwhile — reload" (409: an edit carries the
version it was read at in ``If-Match``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.portal.adapters.i18n import N_
from services.portal.adapters.web import Form, Viewer, ViewerDep, checked_form, done, render, section
from services.portal.application import programs as forms
from services.portal.application.errors import Conflict, FieldErrors, NotFound, Refused
from services.portal.application.forms import place_errors, version_header
from shared.auth import Role

router = APIRouter(include_in_schema=False)
NAV = [((Role.mentor, Role.mentee), "/programs", N_("Programs"))]
ENROL_FIELDS = ("participant_id", "role", "capacity")
GROUP_FIELDS = ("mentor_ids", "mentee_ids")


def _director(viewer: Viewer) -> None:
    if not viewer.has(Role.admin):
        raise Refused("portal", 403, "These pages are the program director's.")


def _typed(form: Form) -> dict[str, str]:
    return {name: form.one(name) for name in form}


# --- the director's programs ---------------------------------------------------------------------------------


@router.get("/director/programs", response_class=HTMLResponse)
async def program_list(viewer: ViewerDep) -> HTMLResponse:
    _director(viewer)
    found = await section(viewer.api.get("matching", "/programs"))
    items = found.value["programs"] if found.value else []
    return render(viewer, "programs/list.html", programs=found, items=items)


@router.get("/director/programs/new", response_class=HTMLResponse)
async def new_program(viewer: ViewerDep) -> HTMLResponse:
    _director(viewer)
    return _program_form(viewer, None, forms.program_values(None))


def _program_form(
    viewer: Viewer,
    program: dict[str, Any] | None,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    conflict: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return render(
        viewer,
        "programs/edit.html" if program else "programs/new.html",
        status_code,
        program=program,
        values=values,
        errors=errors or {},
        conflict=conflict,
        models=forms.MODELS,
        modes=forms.MATCHING_MODES,
        policies=forms.PRIORITY_POLICIES,
        weight_names=forms.WEIGHTS,
        **context,
    )


@router.post("/director/programs", response_class=HTMLResponse)
async def create_program(viewer: ViewerDep) -> Response:
    _director(viewer)
    form = await checked_form(viewer)
    typed = _typed(form)
    body, errors = forms.program_body(typed, new=True)
    values = forms.posted_values(typed)
    if errors:
        return _program_form(viewer, None, values, errors=errors, status_code=422)
    try:
        created = await viewer.api.send("matching", "POST", "/programs", body)
    except FieldErrors as exc:
        placed = place_errors(exc.fields, forms.FIELDS)
        return _program_form(viewer, None, values, errors=placed, status_code=422)
    except Conflict as exc:
        return _program_form(viewer, None, values, conflict=exc.detail, status_code=409)
    return done(f"/director/programs/{created['program_id']}", "program_created")


@router.get("/director/programs/{program_id}", response_class=HTMLResponse)
async def program_page(viewer: ViewerDep, program_id: str) -> HTMLResponse:
    _director(viewer)
    return await _program_page(viewer, program_id)


async def _program_page(
    viewer: Viewer,
    program_id: str,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    conflict: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    program = await viewer.api.get("matching", f"/programs/{program_id}")
    enrolments = await section(viewer.api.get("matching", f"/programs/{program_id}/enrolments"))
    enrolled = enrolments.value["enrolments"] if enrolments.value else []
    settings = values if failed == "settings" and values is not None else forms.program_values(program)
    return _program_form(
        viewer,
        program,
        settings,
        errors=errors if failed == "settings" else {},
        conflict=conflict,
        status_code=status_code,
        version=(values or {}).get("version") if failed == "settings" and values else program["version"],
        enrolments=enrolments,
        enrolled=enrolled,
        mentors=[e for e in enrolled if e["role"] == "mentor"],
        mentees=[e for e in enrolled if e["role"] in ("mentee", "peer")],
        roles=forms.roles_for(program["model"], ("mentor", "mentee")),
        failed=failed,
        part_errors=errors if failed in ("enrol", "group") else {},
        part_values=values if failed in ("enrol", "group") and values else {},
    )


@router.post("/director/programs/{program_id}", response_class=HTMLResponse)
async def update_program(viewer: ViewerDep, program_id: str) -> Response:
    _director(viewer)
    form = await checked_form(viewer)
    typed = _typed(form)
    body, errors = forms.program_body(typed, new=False)
    values = forms.posted_values(typed) | {"version": form.one("version")}
    if errors:
        return await _program_page(viewer, program_id, failed="settings", errors=errors, values=values, status_code=422)
    version = form.one("version")
    headers = version_header(int(version)) if version.isdigit() else {}
    try:
        await viewer.api.send("matching", "PUT", f"/programs/{program_id}", body, headers=headers)
    except FieldErrors as exc:
        placed = place_errors(exc.fields, forms.FIELDS)
        return await _program_page(viewer, program_id, failed="settings", errors=placed, values=values, status_code=422)
    except Conflict as exc:
        return await _program_page(
            viewer, program_id, failed="settings", conflict=exc.detail, values=values, status_code=409
        )
    return done(f"/director/programs/{program_id}", "program_saved")


@router.post("/director/programs/{program_id}/enrolments", response_class=HTMLResponse)
async def enrol_someone(viewer: ViewerDep, program_id: str) -> Response:
    _director(viewer)
    form = await checked_form(viewer)
    body = {
        "participant_id": form.one("participant_id"),
        "role": form.one("role"),
        "capacity": form.one("capacity") or None,
    }
    typed = {k: form.one(k) for k in ENROL_FIELDS}
    try:
        await viewer.api.send("matching", "POST", f"/programs/{program_id}/enrolments", body)
    except FieldErrors as exc:
        placed = place_errors(_eligibility_on_participant(exc.fields), ENROL_FIELDS)
        return await _program_page(viewer, program_id, failed="enrol", errors=placed, values=typed, status_code=422)
    except (Conflict, NotFound) as exc:
        placed = {"participant_id": exc.detail}
        return await _program_page(viewer, program_id, failed="enrol", errors=placed, values=typed, status_code=409)
    return done(f"/director/programs/{program_id}", "program_enrolled")


def _eligibility_on_participant(fields: dict[str, str]) -> dict[str, str]:
    """An eligibility rule the person does not meet (``eligibility.departments``) is said at the person."""
    return {("participant_id" if k.startswith("eligibility") else k): v for k, v in fields.items()}


@router.post("/director/programs/{program_id}/enrolments/{participant_id}/remove", response_class=HTMLResponse)
async def remove_someone(viewer: ViewerDep, program_id: str, participant_id: str) -> Response:
    _director(viewer)
    await checked_form(viewer)
    try:
        await viewer.api.send("matching", "DELETE", f"/programs/{program_id}/enrolments/{participant_id}")
    except (Conflict, NotFound) as exc:
        return await _program_page(viewer, program_id, conflict=exc.detail, status_code=409)
    return done(f"/director/programs/{program_id}", "program_unenrolled")


@router.post("/director/programs/{program_id}/groups", response_class=HTMLResponse)
async def form_group(viewer: ViewerDep, program_id: str) -> Response:
    _director(viewer)
    form = await checked_form(viewer)
    body = {"mentor_ids": form.many("mentor_ids"), "mentee_ids": form.many("mentee_ids")}
    typed = {"mentor_ids": " ".join(body["mentor_ids"]), "mentee_ids": " ".join(body["mentee_ids"])}
    try:
        await viewer.api.send("matching", "POST", f"/programs/{program_id}/groups", body)
    except FieldErrors as exc:
        placed = place_errors(exc.fields, GROUP_FIELDS)
        return await _program_page(viewer, program_id, failed="group", errors=placed, values=typed, status_code=422)
    except Conflict as exc:
        placed = {"_": exc.detail}
        return await _program_page(viewer, program_id, failed="group", errors=placed, values=typed, status_code=409)
    return done(f"/director/programs/{program_id}", "program_group_formed")


# --- the participants' programs ------------------------------------------------------------------------------


def _held(viewer: Viewer) -> list[str]:
    return [role for role, held in (("mentor", Role.mentor), ("mentee", Role.mentee)) if viewer.has(held)]


@router.get("/programs", response_class=HTMLResponse)
async def my_programs(viewer: ViewerDep) -> HTMLResponse:
    return await _my_programs(viewer)


async def _my_programs(
    viewer: Viewer,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    values: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found, mine = await asyncio.gather(
        section(viewer.api.get("matching", "/programs")), section(viewer.api.get("matching", "/enrolments"))
    )
    enrolled = {e["program_id"]: e for e in (mine.value or {}).get("enrolments", [])}
    held = _held(viewer)
    items = []
    for program in (found.value or {}).get("programs", []):
        roles = forms.roles_for(program["model"], held)
        if program["program_id"] == "default" or not (roles or program["program_id"] in enrolled):
            continue
        items.append({**program, "roles": roles, "mine": enrolled.get(program["program_id"])})
    return render(
        viewer,
        "programs/mine.html",
        status_code,
        programs=found,
        items=items,
        failed=failed,
        errors=errors or {},
        values=values or Form(),
    )


@router.post("/programs/{program_id}/enrol", response_class=HTMLResponse)
async def enrol(viewer: ViewerDep, program_id: str) -> Response:
    form = await checked_form(viewer)
    role = form.one("role")
    share = form.one("capacity_choice", "share") == "share"
    body = {"role": role, "capacity": None if role != "mentor" or share else form.one(f"capacity.{program_id}")}
    try:
        await viewer.api.send("matching", "POST", f"/programs/{program_id}/enrolments", body)
    except FieldErrors as exc:
        placed = {f"{k}.{program_id}": v for k, v in place_errors(exc.fields, ("role", "capacity")).items()}
        general = placed.pop(f"_.{program_id}", None)
        if general:  # an eligibility rule the person does not meet: said at the program
            placed[f"role.{program_id}"] = general
        return await _my_programs(viewer, failed=program_id, errors=placed, values=form, status_code=422)
    except Conflict as exc:
        placed = {f"role.{program_id}": exc.detail}
        return await _my_programs(viewer, failed=program_id, errors=placed, values=form, status_code=409)
    return done("/programs", "program_joined")


@router.post("/programs/{program_id}/leave", response_class=HTMLResponse)
async def leave(viewer: ViewerDep, program_id: str) -> Response:
    await checked_form(viewer)
    try:
        await viewer.api.send("matching", "DELETE", f"/programs/{program_id}/enrolments/{viewer.subject}")
    except (Conflict, NotFound) as exc:
        placed = {f"role.{program_id}": exc.detail}
        return await _my_programs(viewer, failed=program_id, errors=placed, status_code=409)
    return done("/programs", "program_left")


async def program_names(viewer: Viewer) -> dict[str, str]:
    """Program id → name (the ids where matching does not answer)."""
    found = await section(viewer.api.get("matching", "/programs"))
    return {p["program_id"]: p["name"] for p in (found.value or {}).get("programs", [])}
