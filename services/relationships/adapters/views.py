"""Read-side SQL the routes serve directly (no rule beyond who may see which rows)."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.relationships.adapters.read_model import STATUS


async def listing(
    pool: asyncpg.Pool,
    *,
    participant_id: str | None,
    phase: str | None,
    limit: int,
    offset: int,
    lagging: bool | None = None,
    program_id: str | None = None,
) -> list[dict[str, Any]]:
    """``participant_id`` None: every relationship (the program director's view); else only those they are a
    mentor, co-mentor, mentee or member of now.  ``lagging``: only those that are (or are not) lagging now;
    ``program_id``: only that program's."""
    rows = await pool.fetch(
        f"""SELECT * FROM ({STATUS}
                WHERE ($1::text IS NULL OR v.mentor_id = $1 OR $1 = ANY (v.co_mentor_ids) OR $1 = ANY (v.mentee_ids))
                  AND ($6::text IS NULL OR v.program_id = $6)) AS r
            WHERE ($2::text IS NULL OR r.phase = $2) AND ($5::boolean IS NULL OR r.lagging = $5)
            ORDER BY r.started_on, r.relationship_id LIMIT $3 OFFSET $4""",
        participant_id,
        phase,
        limit,
        offset,
        lagging,
        program_id,
    )
    return [dict(r) for r in rows]
