"""The ``SurveyStore`` port on Postgres (migration 003): templates, the survey view and sealed text answers;
and the read-only queries the survey routes serve."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from services.relationships.application.answer_survey import template_of
from services.relationships.application.ports import Sealed
from services.relationships.application.survey_ports import SealedAnswer
from services.relationships.domain.survey import Survey, Template


class PostgresSurveyStore:
    async def template(self, conn: asyncpg.Connection, program_id: str, kind: str) -> Template | None:
        raw = await conn.fetchval(
            "SELECT questions FROM survey_templates WHERE program_id = $1 AND kind = $2", program_id, kind
        )
        return None if raw is None else template_of(kind, raw)

    async def save_template(self, conn: asyncpg.Connection, program_id: str, template: Template, by: str) -> None:
        await conn.execute(
            "INSERT INTO survey_templates (program_id, kind, questions, updated_by) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (program_id, kind) DO UPDATE SET questions = EXCLUDED.questions,"
            " updated_by = EXCLUDED.updated_by, updated_at = now()",
            program_id,
            template.kind,
            template.as_dict()["questions"],
            by,
        )

    async def save_view(self, conn: asyncpg.Connection, survey: Survey, questions: list[dict[str, Any]] | None) -> None:
        """The survey's view row: created with its questions when it opens (an existing row keeps its own), and its
        answered respondents set, in one statement (a pulse survey opens with every meeting logged: bench/load.py
        counted an INSERT and an UPDATE per meeting)."""
        answered = sorted(survey.answered)
        if questions is None:
            await conn.execute(
                "UPDATE survey_view SET answered_ids = $2 WHERE survey_id = $1", survey.survey_id, answered
            )
            return
        assert survey.expires_on is not None
        await conn.execute(
            "INSERT INTO survey_view (survey_id, kind, program_id, relationship_id, respondent_ids, questions,"
            " opened_on, expires_on, answered_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (survey_id) DO UPDATE SET answered_ids = EXCLUDED.answered_ids",
            survey.survey_id,
            survey.kind,
            survey.program_id,
            survey.relationship_id,
            survey.respondent_ids,
            questions,
            survey.opened_on,
            survey.expires_on,
            answered,
        )

    async def questions(self, conn: asyncpg.Connection, survey_id: str) -> list[dict[str, Any]] | None:
        return await conn.fetchval("SELECT questions FROM survey_view WHERE survey_id = $1", survey_id)

    async def write_answer(self, conn: asyncpg.Connection, answer: SealedAnswer) -> None:
        await conn.execute(
            "INSERT INTO survey_texts (survey_id, respondent_id, question_id, key_id, nonce, ciphertext, written_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            answer.survey_id,
            answer.respondent_id,
            answer.question_id,
            answer.sealed.key_id,
            answer.sealed.nonce,
            answer.sealed.ciphertext,
            answer.written_at,
        )

    async def read_answers(self, conn: asyncpg.Connection, survey_id: str, respondent_id: str) -> list[SealedAnswer]:
        rows = await conn.fetch(
            "SELECT question_id, key_id, nonce, ciphertext, written_at FROM survey_texts"
            " WHERE survey_id = $1 AND respondent_id = $2 ORDER BY question_id",
            survey_id,
            respondent_id,
        )
        return [
            SealedAnswer(
                survey_id,
                respondent_id,
                r["question_id"],
                Sealed(r["key_id"], r["nonce"], r["ciphertext"]),
                r["written_at"],
            )
            for r in rows
        ]

    async def forget_respondent(self, conn: asyncpg.Connection, respondent_id: str) -> int:
        status = await conn.execute("DELETE FROM survey_texts WHERE respondent_id = $1", respondent_id)
        return int(status.split()[-1])


_OPEN = """
SELECT survey_id, kind, program_id, relationship_id, opened_on, expires_on, questions
FROM survey_view
WHERE $1 = ANY(respondent_ids) AND NOT ($1 = ANY(answered_ids)) AND expires_on >= $2
  AND ($3::text IS NULL OR relationship_id = $3)
ORDER BY opened_on, survey_id
"""


async def open_surveys(
    conn: asyncpg.Connection, respondent_id: str, today: date, relationship_id: str | None = None
) -> list[dict[str, Any]]:
    """The surveys ``respondent_id`` may still answer (of one relationship, or all), oldest first."""
    rows = await conn.fetch(_OPEN, respondent_id, today, relationship_id)
    return [
        {
            "survey_id": r["survey_id"],
            "kind": r["kind"],
            "program_id": r["program_id"],
            "relationship_id": r["relationship_id"],
            "opened_on": r["opened_on"],
            "expires_on": r["expires_on"],
            "questions": r["questions"],
        }
        for r in rows
    ]
