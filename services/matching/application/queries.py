"""Queries on the request view: who may read which request."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.matching.domain.errors import NotAllowed, NotFound

_COLUMNS = """request_id, version, mentee_id, status, origin, ranked_mentor_ids, biography, motivation, choice_rank,
mentor_id, respond_by, forwarded_to, decline_reason, matched_mentor_id, submitted_at, updated_at"""


async def request_view(pool: asyncpg.Pool, request_id: str, subject: str, *, director: bool) -> dict[str, Any]:
    """The director reads every request; the mentee their own; a mentor those forwarded to them."""
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM requests WHERE request_id = $1", request_id)
    if row is None:
        raise NotFound(f"no request {request_id}")
    if not (director or subject == row["mentee_id"] or subject in row["forwarded_to"]):
        raise NotAllowed(f"request {request_id} is neither yours nor forwarded to you")
    return dict(row)


async def request_listing(
    pool: asyncpg.Pool, *, mentee_id: str | None, mentor_id: str | None, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"""SELECT {_COLUMNS} FROM requests
            WHERE ($1::text IS NULL OR mentee_id = $1) AND ($2::text IS NULL OR $2 = ANY (forwarded_to))
              AND ($3::text IS NULL OR status = $3)
            ORDER BY submitted_at, request_id LIMIT $4 OFFSET $5""",
        mentee_id,
        mentor_id,
        status,
        limit,
        offset,
    )
    return [dict(r) for r in rows]
