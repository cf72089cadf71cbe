"""The ``ProgramTerms`` and ``PeopleStanding`` ports on Postgres.

``program_terms`` holds what relationships applies of each program, written from matching's
``ProgramDefined``/``ProgramChanged`` (the full settings each time, so the row is simply replaced).
``participant_standing`` is every service's table of erased and deactivated people (``shared.standing``).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from services.relationships.domain.program import DEFAULT_TERMS, Terms

_UPSERT = """
INSERT INTO program_terms (program_id, model, cadence_weeks_min, cadence_weeks_max, review_interval_months,
                           inactivity_days, surveys)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (program_id) DO UPDATE SET
    model = EXCLUDED.model, cadence_weeks_min = EXCLUDED.cadence_weeks_min,
    cadence_weeks_max = EXCLUDED.cadence_weeks_max, review_interval_months = EXCLUDED.review_interval_months,
    inactivity_days = EXCLUDED.inactivity_days,
    surveys = EXCLUDED.surveys, updated_at = now()
"""


class PostgresProgramTerms:
    async def terms(self, conn: asyncpg.Connection, program_id: str) -> Terms:
        row = await conn.fetchrow(
            "SELECT program_id, model, cadence_weeks_min, cadence_weeks_max, review_interval_months, inactivity_days,"
            " surveys"
            " FROM program_terms WHERE program_id = $1",
            program_id,
        )
        if row is None:
            return Terms(program_id=program_id) if program_id != DEFAULT_TERMS.program_id else DEFAULT_TERMS
        data = dict(row)
        data["surveys"] = None if data["surveys"] is None else tuple(data["surveys"])
        return Terms(**data)

    async def save(self, conn: asyncpg.Connection, terms: Terms) -> None:
        await conn.execute(
            _UPSERT,
            terms.program_id,
            terms.model,
            terms.cadence_weeks_min,
            terms.cadence_weeks_max,
            terms.review_interval_months,
            terms.inactivity_days,
            None if terms.surveys is None else list(terms.surveys),
        )


class PostgresPeopleStanding:
    async def not_active(self, conn: asyncpg.Connection, participant_ids: Sequence[str]) -> dict[str, str]:
        rows = await conn.fetch(
            "SELECT participant_id, standing FROM participant_standing WHERE participant_id = ANY($1::text[])",
            list(participant_ids),
        )
        return {r["participant_id"]: r["standing"] for r in rows}
