"""HTTP API of surveys (issue 18): templates per program, a respondent's open surveys, answers and their own
free-text answers.  Text answers are readable by their respondent only (another party: 404; the director: 403)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from services.relationships.adapters.survey_store import open_surveys
from services.relationships.application import answer_survey, survey_templates
from services.relationships.application.survey_ports import Surveys
from services.relationships.domain.survey import MAX_QUESTIONS, TEXT_MAX, Question, Template
from shared.auth import Director, Member, Party
from shared.fields import Id, IdPath, items, line, text
from shared.http import CorrelationDep, include_routes

router = APIRouter(tags=["surveys"])
Kind = Literal["pulse", "mid_point", "annual_review", "closure", "end_of_training"]
KindPath = Annotated[Kind, Path(description="The survey kind")]


async def get_surveys(request: Request) -> Surveys:
    return request.app.state.surveys


SurveysDep = Annotated[Surveys, Depends(get_surveys)]


class QuestionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id
    text: text(500)  # type: ignore[valid-type]
    type: Literal["scale", "choice", "text"]
    options: items(line(100), 10) = Field(default_factory=list)  # type: ignore[valid-type]
    required: bool = True


class TemplateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[QuestionBody] = Field(min_length=1, max_length=MAX_QUESTIONS)


class Answers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[Id, StrictInt | text(TEXT_MAX)] = Field(max_length=MAX_QUESTIONS)  # type: ignore[valid-type]


def install_surveys(app: FastAPI, surveys: Surveys) -> None:
    app.state.surveys = surveys
    include_routes(app, router)


@router.put("/programs/{program_id}/surveys/{kind}")
async def put_template(program_id: IdPath, kind: KindPath, body: TemplateBody, s: SurveysDep, who: Director) -> Any:
    """The director sets the program's template of this kind (pulse: at most 3 questions)."""
    template = Template(
        kind,
        tuple(Question(q.id, q.text, q.type, tuple(q.options), q.required) for q in body.questions),
    )
    await survey_templates.put_template(s, program_id, template, who.subject)
    return await survey_templates.get_template(s, program_id, kind)


@router.get("/programs/{program_id}/surveys/{kind}")
async def get_template(program_id: IdPath, kind: KindPath, s: SurveysDep, _: Member) -> Any:
    """The program's template of this kind, or the built-in default (`default: true`)."""
    return await survey_templates.get_template(s, program_id, kind)


@router.get("/surveys")
async def my_open_surveys(s: SurveysDep, who: Member) -> dict[str, Any]:
    """The caller's open surveys (not answered, not expired), with their questions."""
    async with s.transactions() as conn:
        return {"items": await open_surveys(conn, who.subject, s.today())}


@router.post("/surveys/{survey_id}/responses", status_code=status.HTTP_201_CREATED)
async def post_response(
    survey_id: IdPath, body: Answers, s: SurveysDep, correlation_id: CorrelationDep, who: Party
) -> dict[str, str]:
    """A respondent answers, once: `SurveyAnswered` (scores and choices; text answers stay sealed here)."""
    cmd = answer_survey.AnswerSurvey(survey_id, who.subject, dict(body.answers), correlation_id)
    await answer_survey.handle(s, cmd)
    return {"survey_id": survey_id, "respondent_id": who.subject}


@router.get("/surveys/{survey_id}/responses/{respondent_id}/texts")
async def get_own_texts(survey_id: IdPath, respondent_id: IdPath, s: SurveysDep, who: Party) -> dict[str, str]:
    """The respondent's own text answers, by question id; nobody else's (404; the director: 403)."""
    return await answer_survey.own_texts(s, survey_id, who.subject, respondent_id)


async def open_surveys_of(app: FastAPI, relationship_id: str, reader: str) -> list[dict[str, Any]]:
    """For the relationship view: the reader's open surveys of this relationship."""
    s: Surveys = app.state.surveys
    async with s.transactions() as conn:
        return await open_surveys(conn, reader, s.today(), relationship_id)
