"""Answering a survey (issue 18: pulse after a meeting, mid-point, annual review, closure) from the relationship's
workspace: ``/relationships/{id}/surveys/{survey_id}``, one of the reader's open surveys there (the relationship
view's ``open_surveys``); anything else is the not-found page. A survey of no relationship (the end-of-training
survey) is answered at ``/surveys/{survey_id}`` (one of relationships' ``GET /surveys``), the link its invitation
mail carries; a relationship's survey asked for there is sent to its page in the workspace. Questions: a scale 1-5
and a choice as radio buttons, free text as a text area (sealed by relationships, readable by the respondent only).
The question texts are the service's (in its language)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal.adapters.web import Form, Viewer, ViewerDep, checked_form, done, render
from services.portal.application.errors import Conflict, FieldErrors, NotFound

router = APIRouter(include_in_schema=False)
NAV: list[Any] = []


def survey_answers(questions: list[dict[str, Any]], form: Form) -> dict[str, Any]:
    """The form as relationships' ``answers``: scales as whole numbers, what was left empty not sent."""
    answers: dict[str, Any] = {}
    for q in questions:
        value = form.one(f"answers.{q['id']}")
        if not value:
            continue
        answers[q["id"]] = int(value) if q["type"] == "scale" and value.isdigit() else value
    return answers


async def _open_survey(viewer: Viewer, relationship_id: str, survey_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    rel = await viewer.api.get("relationships", f"/relationships/{relationship_id}")
    for survey in rel.get("open_surveys") or []:
        if survey["survey_id"] == survey_id:
            return rel, survey
    raise NotFound("relationships", 404, f"no open survey {survey_id}")


@router.get("/relationships/{relationship_id}/surveys/{survey_id}", response_class=HTMLResponse)
async def survey_page(viewer: ViewerDep, relationship_id: str, survey_id: str) -> HTMLResponse:
    rel, survey = await _open_survey(viewer, relationship_id, survey_id)
    return _page(viewer, rel, survey)


def _page(
    viewer: Viewer,
    rel: dict[str, Any] | None,
    survey: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    conflict: str = "",
    values: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        viewer,
        "surveys/survey.html",
        status_code,
        rel=rel,
        survey=survey,
        errors=errors or {},
        conflict=conflict,
        values=values or Form(),
    )


@router.post("/relationships/{relationship_id}/surveys/{survey_id}", response_class=HTMLResponse)
async def answer(viewer: ViewerDep, relationship_id: str, survey_id: str) -> Response:
    form = await checked_form(viewer)
    rel, survey = await _open_survey(viewer, relationship_id, survey_id)
    refused = await _send_answers(viewer, rel, survey, form)
    return refused or done(f"/relationships/{relationship_id}", "survey_answered")


async def _send_answers(
    viewer: Viewer, rel: dict[str, Any] | None, survey: dict[str, Any], form: Form
) -> Response | None:
    """The form's answers to relationships: None once taken, else the page again with the refusal at its field
    (422) or the conflict (409), what was typed kept."""
    body = {"answers": survey_answers(survey["questions"], form)}
    try:
        await viewer.api.send("relationships", "POST", f"/surveys/{survey['survey_id']}/responses", body)
    except FieldErrors as exc:
        return _page(viewer, rel, survey, errors=exc.fields, values=form, status_code=422)
    except Conflict as exc:
        return _page(viewer, rel, survey, conflict=exc.detail, values=form, status_code=409)
    return None


async def _my_survey(viewer: Viewer, survey_id: str) -> dict[str, Any]:
    for survey in (await viewer.api.get("relationships", "/surveys")).get("items") or []:
        if survey["survey_id"] == survey_id:
            return survey
    raise NotFound("relationships", 404, f"no open survey {survey_id}")


@router.get("/surveys/{survey_id}", response_class=HTMLResponse)
async def lone_survey_page(viewer: ViewerDep, survey_id: str) -> Response:
    """A survey of no relationship (end of training); a relationship's is answered in its workspace."""
    survey = await _my_survey(viewer, survey_id)
    if survey.get("relationship_id"):
        where = f"/relationships/{survey['relationship_id']}/surveys/{survey_id}"
        return RedirectResponse(where, status.HTTP_303_SEE_OTHER)
    return _page(viewer, None, survey)


@router.post("/surveys/{survey_id}", response_class=HTMLResponse)
async def answer_lone(viewer: ViewerDep, survey_id: str) -> Response:
    form = await checked_form(viewer)
    survey = await _my_survey(viewer, survey_id)
    refused = await _send_answers(viewer, None, survey, form)
    return refused or done("/", "survey_thanks")
