"""Use cases: a respondent answers a survey (once, before it expires) and reads back their own answers.

Scores and choices travel on ``SurveyAnswered``; free-text answers are sealed here (bound to survey, respondent
and question) and only the respondent reads them: not the other parties, not the director, not analysts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.relationships.application.survey_ports import SealedAnswer, Surveys
from services.relationships.domain.survey import Question, SurveyNotFound, Template
from shared.ports import Conn


@dataclass(frozen=True)
class AnswerSurvey:
    survey_id: str
    by: str
    answers: dict[str, Any]
    correlation_id: Any = None


def _context(survey_id: str, respondent_id: str, question_id: str) -> str:
    return f"survey_answer/{survey_id}/{respondent_id}/{question_id}"


def template_of(kind: str, questions: list[dict[str, Any]]) -> Template:
    return Template(
        kind,  # type: ignore[arg-type]
        tuple(
            Question(q["id"], q["text"], q["type"], tuple(q.get("options") or ()), q.get("required", True))
            for q in questions
        ),
    )


async def _role(s: Surveys, conn: Conn, relationship_id: str | None, respondent: str) -> Any:
    if relationship_id is None:
        return "mentor"
    relationship = await s.relationships.load(conn, relationship_id)
    return relationship.role_of(respondent)


async def handle(s: Surveys, cmd: AnswerSurvey) -> None:
    async with s.transactions() as conn:
        survey = await s.surveys.load(conn, cmd.survey_id)
        questions = await s.store.questions(conn, cmd.survey_id)
        if not survey.exists or questions is None or cmd.by not in survey.respondent_ids:
            raise SurveyNotFound(cmd.survey_id)
        scores, choices, texts = template_of(survey.kind, questions).check(cmd.answers)
        role = await _role(s, conn, survey.relationship_id, cmd.by)
        events = survey.answer(cmd.by, role, scores, choices, s.today())
        await s.surveys.commit(conn, survey, events, correlation_id=cmd.correlation_id)
        await s.store.save_view(conn, survey, None)
        for qid, text in texts.items():
            sealed = s.cipher.seal(text, _context(cmd.survey_id, cmd.by, qid))
            await s.store.write_answer(conn, SealedAnswer(cmd.survey_id, cmd.by, qid, sealed, s.clock.now()))


async def own_texts(s: Surveys, survey_id: str, reader: str, respondent_id: str) -> dict[str, str]:
    """The respondent's own free-text answers; to anyone else the answers are not found (404)."""
    if reader != respondent_id:
        raise SurveyNotFound(survey_id)
    async with s.transactions() as conn:
        survey = await s.surveys.load(conn, survey_id)
        if not survey.exists or reader not in survey.respondent_ids:
            raise SurveyNotFound(survey_id)
        stored = await s.store.read_answers(conn, survey_id, reader)
    return {a.question_id: s.cipher.open(a.sealed, _context(survey_id, reader, a.question_id)) for a in stored}
