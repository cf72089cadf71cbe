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
) -> list[dict[str, Any]]:
    """``participant_id`` None: every relationship (the program director's view); else only theirs.
    ``lagging``: only those that are (or are not) lagging now."""
    rows = await pool.fetch(
        f"""SELECT * FROM ({STATUS}
                WHERE $1::text IS NULL OR v.mentor_id = $1 OR $1 = ANY (v.mentee_ids)) AS r
            WHERE ($2::text IS NULL OR r.phase = $2) AND ($5::boolean IS NULL OR r.lagging = $5)
            ORDER BY r.started_on, r.relationship_id LIMIT $3 OFFSET $4""",
        participant_id,
        phase,
        limit,
        offset,
        lagging,
    )
    return [dict(r) for r in rows]
