"""The request view rows in Postgres (``requests``): the ``RequestIndex`` port."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import asyncpg

from services.matching.domain.errors import MatchingRuleViolation
from services.matching.domain.request import Request

_UPSERT = """
INSERT INTO requests (request_id, version, mentee_id, status, origin, ranked_mentor_ids, biography, motivation,
                      choice_rank, mentor_id, respond_by, forwarded_to, decline_reason, matched_mentor_id,
                      submitted_at, updated_at, program_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (request_id) DO UPDATE SET
    version = EXCLUDED.version, status = EXCLUDED.status, choice_rank = EXCLUDED.choice_rank,
    mentor_id = EXCLUDED.mentor_id, respond_by = EXCLUDED.respond_by, forwarded_to = EXCLUDED.forwarded_to,
    decline_reason = EXCLUDED.decline_reason, matched_mentor_id = EXCLUDED.matched_mentor_id,
    updated_at = EXCLUDED.updated_at
"""


class PostgresRequestIndex:
    async def save(self, conn: asyncpg.Connection, r: Request, now: datetime) -> None:
        """The unique partial index ``requests_one_open_per_mentee_program`` refuses a second open request of the
        mentee in one program. The refusal rolls back the caller's whole transaction (nothing catches it to go
        on), so no savepoint is taken around the statement: it cost two round trips per request commit."""
        try:
            await conn.execute(
                _UPSERT,
                r.request_id,
                r.version,
                r.mentee_id,
                r.status,
                r.origin,
                r.ranked,
                r.biography,
                r.motivation,
                r.choice_rank,
                r.mentor_id,
                r.respond_by,
                r.forwarded_to,
                r.decline_reason,
                r.matched_mentor_id,
                r.submitted_at or now,
                now,
                r.program_id,
            )
        except asyncpg.UniqueViolationError as exc:
            raise MatchingRuleViolation(
                f"mentee {r.mentee_id} already has an open request in program {r.program_id}"
            ) from exc

    async def of_mentee(self, conn: asyncpg.Connection, mentee_id: str, statuses: Collection[str]) -> list[str]:
        rows = await conn.fetch(
            "SELECT request_id FROM requests WHERE mentee_id = $1 AND status = ANY($2::text[])",
            mentee_id,
            list(statuses),
        )
        return [r["request_id"] for r in rows]

    async def waiting_for(self, conn: asyncpg.Connection, mentor_id: str) -> list[str]:
        rows = await conn.fetch(
            "SELECT request_id FROM requests WHERE mentor_id = $1 AND status = 'forwarded'", mentor_id
        )
        return [r["request_id"] for r in rows]

    async def scrub(self, conn: asyncpg.Connection, mentee_id: str, erased: str) -> None:
        await conn.execute(
            "UPDATE requests SET biography = $2, motivation = $2,"
            " decline_reason = CASE WHEN decline_reason IS NULL THEN NULL ELSE $2 END WHERE mentee_id = $1",
            mentee_id,
            erased,
        )
