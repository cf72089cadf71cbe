"""Surveys (issue 18): templates per program, the built-in defaults, answers checked against the template, and
the Survey aggregate (one stream per survey: opened for its respondents, answered once by each).  No I/O.

Kinds: ``pulse`` (after each meeting logged), ``mid_point`` (halfway from signing to the review date),
``annual_review`` (when the review falls due), ``closure`` (at closure), ``end_of_training`` (a mentor who
completed the training; no relationship).  A question is a ``scale`` (1-5), a ``choice`` (one of its options)
or ``text`` (personal: sealed, readable by the respondent only, never on the bus).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from shared.aggregate import Aggregate
from shared.errors import InvalidCommand, NotFound, RuleViolation
from shared.events import Event
from shared.events.relationships import SURVEY_KINDS, SurveyAnswered, SurveyKind, SurveyOpened

QuestionType = Literal["scale", "choice", "text"]
TEXT_MAX = 4000
MAX_QUESTIONS = 20
PULSE_MAX_QUESTIONS = 3
_NAMESPACE = uuid.UUID("5b0f3a7e-9d7c-4c1e-8e55-3f1f2d1c0a18")


class SurveyRuleViolation(RuleViolation):
    """The survey is closed, expired, or already answered by the caller (409)."""


class SurveyNotFound(NotFound):
    """No such survey, or not one the caller is asked to answer (404, in the same words)."""

    def __init__(self, survey_id: str) -> None:
        super().__init__(f"no survey {survey_id}")


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    type: QuestionType
    options: tuple[str, ...] = ()
    required: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "type": self.type,
            "options": list(self.options),
            "required": self.required,
        }


@dataclass(frozen=True)
class Template:
    kind: SurveyKind
    questions: tuple[Question, ...]

    def __post_init__(self) -> None:
        if not self.questions:
            raise InvalidCommand("questions", "a survey asks at least one question")
        limit = PULSE_MAX_QUESTIONS if self.kind == "pulse" else MAX_QUESTIONS
        if len(self.questions) > limit:
            raise InvalidCommand("questions", f"a {self.kind} survey asks at most {limit} questions")
        seen: set[str] = set()
        for n, q in enumerate(self.questions):
            if q.id in seen:
                raise InvalidCommand(f"questions.{n}.id", "question ids must be distinct")
            seen.add(q.id)
            if q.type == "choice" and len(q.options) < 2:
                raise InvalidCommand(f"questions.{n}.options", "a choice question offers at least two options")
            if q.type == "choice" and len(set(q.options)) != len(q.options):
                raise InvalidCommand(f"questions.{n}.options", "options must be distinct")
            if q.type != "choice" and q.options:
                raise InvalidCommand(f"questions.{n}.options", "only a choice question has options")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "questions": [q.as_dict() for q in self.questions]}

    def check(self, answers: dict[str, Any]) -> tuple[dict[str, int], dict[str, str], dict[str, str]]:
        """The answers split into scores, choices and texts; 422 naming ``answers.<question id>`` otherwise."""
        known = {q.id for q in self.questions}
        for qid in answers:
            if qid not in known:
                raise InvalidCommand(f"answers.{qid}", "no such question in this survey")
        scores: dict[str, int] = {}
        choices: dict[str, str] = {}
        texts: dict[str, str] = {}
        for q in self.questions:
            value = answers.get(q.id)
            where = f"answers.{q.id}"
            if value is None or (isinstance(value, str) and not value.strip()):
                if q.required:
                    raise InvalidCommand(where, "this question requires an answer")
                continue
            if q.type == "scale":
                if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                    raise InvalidCommand(where, "a scale answer is a whole number from 1 to 5")
                scores[q.id] = value
            elif q.type == "choice":
                if not isinstance(value, str) or value not in q.options:
                    raise InvalidCommand(where, "not one of the question's options")
                choices[q.id] = value
            else:
                if not isinstance(value, str):
                    raise InvalidCommand(where, "a text answer is a string")
                if len(value) > TEXT_MAX:
                    raise InvalidCommand(where, f"at most {TEXT_MAX} characters")
                texts[q.id] = value
        return scores, choices, texts


def _scale(qid: str, text: str) -> Question:
    return Question(qid, text, "scale")


_COMMENT = Question("comment", "Anything you would like to add?", "text", required=False)
DEFAULT_TEMPLATES: dict[str, Template] = {
    "pulse": Template(
        "pulse",
        (
            _scale("useful", "How useful was this meeting?"),
            Question("next", "Is the next meeting planned?", "choice", ("yes", "no", "not_sure")),
            _COMMENT,
        ),
    ),
    "mid_point": Template(
        "mid_point",
        (
            _scale("satisfaction", "How satisfied are you with the relationship so far?"),
            _scale("progress", "How much progress toward the agreed goals?"),
            Question("on_track", "Will the goals be met by the review?", "choice", ("yes", "partly", "no")),
            _COMMENT,
        ),
    ),
    "annual_review": Template(
        "annual_review",
        (
            _scale("satisfaction", "How satisfied are you with the relationship this year?"),
            _scale("goals", "How well were this year's goals met?"),
            Question("continue", "Should the relationship continue?", "choice", ("continue", "revise", "close")),
            _COMMENT,
        ),
    ),
    "closure": Template(
        "closure",
        (
            _scale("satisfaction", "Overall, how satisfied are you with the relationship?"),
            _scale("goals", "How well were the goals met?"),
            Question("recommend", "Would you recommend the program?", "choice", ("yes", "no")),
            _COMMENT,
        ),
    ),
    "end_of_training": Template(
        "end_of_training",
        (
            _scale("prepared", "How prepared do you feel to mentor?"),
            _scale("quality", "How would you rate the training?"),
            Question("format", "Which part helped most?", "choice", ("workshop", "handbook", "practice")),
            _COMMENT,
        ),
    ),
}
assert set(DEFAULT_TEMPLATES) == set(SURVEY_KINDS)


def survey_id_for(kind: str, occasion: str, subject: str) -> str:
    """A stable id per kind, occasion and subject (a relationship or a mentor), so a redelivery opens nothing twice."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}|{subject}|{occasion}"))


def mid_point(signed_on: date, review_due_on: date) -> date:
    """Halfway between the agreement's signing and its review date."""
    return signed_on + timedelta(days=(review_due_on - signed_on).days // 2)


@dataclass
class Survey(Aggregate):
    """One survey, opened for its respondents; each answers once, before it expires."""

    id_field = "survey_id"
    survey_id: str
    version: int = 0
    kind: str = "pulse"
    program_id: str = "default"
    relationship_id: str | None = None
    respondent_ids: list[str] = field(default_factory=list)
    opened_on: date | None = None
    expires_on: date | None = None
    answered: set[str] = field(default_factory=set)

    def open(
        self,
        kind: SurveyKind,
        program_id: str,
        relationship_id: str | None,
        respondent_ids: list[str],
        occasion: str,
        today: date,
        expires_after: timedelta,
    ) -> list[Event]:
        """Opened once (a second opening of the same id decides nothing)."""
        respondents = list(dict.fromkeys(respondent_ids))
        if self.exists or not respondents:
            return []
        return [
            SurveyOpened(
                survey_id=self.survey_id,
                kind=kind,
                program_id=program_id,
                relationship_id=relationship_id,
                respondent_ids=respondents,
                opened_on=today,
                expires_on=today + expires_after,
                occasion=occasion[:100],
            )
        ]

    def is_open_for(self, respondent_id: str, today: date) -> bool:
        return (
            self.exists
            and respondent_id in self.respondent_ids
            and respondent_id not in self.answered
            and self.expires_on is not None
            and today <= self.expires_on
        )

    def answer(
        self,
        respondent_id: str,
        role: Literal["mentor", "mentee", "peer"],
        scores: dict[str, int],
        choices: dict[str, str],
        today: date,
    ) -> list[Event]:
        if not self.exists or respondent_id not in self.respondent_ids:
            raise SurveyNotFound(self.survey_id)
        if respondent_id in self.answered:
            raise SurveyRuleViolation(f"{respondent_id} has already answered survey {self.survey_id}")
        assert self.expires_on is not None
        if today > self.expires_on:
            raise SurveyRuleViolation(f"survey {self.survey_id} expired on {self.expires_on}")
        return [
            SurveyAnswered(
                survey_id=self.survey_id,
                kind=self.kind,  # type: ignore[arg-type]
                program_id=self.program_id,
                relationship_id=self.relationship_id,
                respondent_id=respondent_id,
                respondent_role=role,
                answered_on=today,
                scores=scores,
                choices=choices,
            )
        ]

    def evolve(self, event: Event, at: datetime) -> None:
        if isinstance(event, SurveyOpened):
            self.kind, self.program_id, self.relationship_id = event.kind, event.program_id, event.relationship_id
            self.respondent_ids = list(event.respondent_ids)
            self.opened_on, self.expires_on = event.opened_on, event.expires_on
        elif isinstance(event, SurveyAnswered):
            self.answered.add(event.respondent_id)
