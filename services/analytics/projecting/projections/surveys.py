"""Surveys (issue 18): who was asked (``SurveyOpened``) and what was answered (``SurveyAnswered``: scale scores and
choices only; free text never reaches analytics), for response rates and results per program and kind.

No person ids are kept: an opened survey counts its respondents, an answer is a row of its scores and choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import asyncpg

from services.analytics.projecting.copying import insert_new
from services.analytics.projecting.projections.catalog import apply_rules, by_type
from shared.envelope import EnvelopeRecord
from shared.events.relationships import SurveyAnswered, SurveyOpened
from shared.logging import get_logger

log = get_logger(__name__)

DDL = """
CREATE TABLE {schema}.surveys_opened (
    survey_id   text PRIMARY KEY,
    kind        text NOT NULL,
    program_id  text NOT NULL,
    respondents integer NOT NULL,
    opened_on   date NOT NULL
);
CREATE TABLE {schema}.surveys_answered (
    event_id    uuid PRIMARY KEY,
    survey_id   text NOT NULL,
    kind        text NOT NULL,
    program_id  text NOT NULL,
    answered_on date NOT NULL
);
CREATE TABLE {schema}.surveys_scores (
    event_id    uuid NOT NULL,
    question_id text NOT NULL,
    score       integer NOT NULL,
    PRIMARY KEY (event_id, question_id)
);
CREATE TABLE {schema}.surveys_choices (
    event_id    uuid NOT NULL,
    question_id text NOT NULL,
    option      text NOT NULL,
    PRIMARY KEY (event_id, question_id)
);
"""


class Prepared(NamedTuple):
    opened: list[tuple]
    answers: list[tuple]
    scores: list[tuple]
    choices: list[tuple]


def _opened(prepared: Prepared, envelope: EnvelopeRecord, data: dict) -> None:
    prepared.opened.append(
        (
            data["survey_id"],
            data["kind"],
            data.get("program_id") or "default",
            len(data["respondent_ids"]),
            date.fromisoformat(data["opened_on"]),
        )
    )


def _answered(prepared: Prepared, envelope: EnvelopeRecord, data: dict) -> None:
    scores = [(envelope.id, q, int(s)) for q, s in (data.get("scores") or {}).items()]
    choices = [(envelope.id, q, str(o)) for q, o in (data.get("choices") or {}).items()]
    answer = (
        envelope.id,
        data["survey_id"],
        data["kind"],
        data.get("program_id") or "default",
        date.fromisoformat(data["answered_on"]),
    )
    prepared.answers.append(answer)
    prepared.scores.extend(scores)
    prepared.choices.extend(choices)


RULES = by_type({SurveyOpened: _opened, SurveyAnswered: _answered})


def prepare(events: Sequence[EnvelopeRecord]) -> Prepared:
    prepared = Prepared([], [], [], [])
    apply_rules(
        events,
        RULES,
        lambda rule, envelope, data: rule(prepared, envelope, data),
        log,
        "survey event not projectable; skipped",
    )
    return prepared


async def write(conn: asyncpg.Connection, schema: str, prepared: Prepared) -> None:
    await insert_new(
        conn,
        schema,
        "surveys_opened",
        {"survey_id": "text", "kind": "text", "program_id": "text", "respondents": "integer", "opened_on": "date"},
        prepared.opened,
    )
    await insert_new(
        conn,
        schema,
        "surveys_answered",
        {"event_id": "uuid", "survey_id": "text", "kind": "text", "program_id": "text", "answered_on": "date"},
        prepared.answers,
    )
    await insert_new(
        conn, schema, "surveys_scores", {"event_id": "uuid", "question_id": "text", "score": "integer"}, prepared.scores
    )
    await insert_new(
        conn, schema, "surveys_choices", {"event_id": "uuid", "question_id": "text", "option": "text"}, prepared.choices
    )


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))
