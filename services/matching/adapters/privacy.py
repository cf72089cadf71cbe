"""Where matching keeps a person's data (``shared.privacy``): its directory and mentee rows, their requests."""

from __future__ import annotations

import asyncpg

from services.matching.application.follow_profiles import ERASED
from shared.privacy import Place


async def inventory(conn: asyncpg.Connection, person_id: str) -> list[Place]:
    mentor = await conn.fetchrow(
        "SELECT count(*) AS rows, count(*) FILTER (WHERE name <> $2 OR biography <> $2) AS readable"
        " FROM mentor_directory WHERE mentor_id = $1",
        person_id,
        ERASED,
    )
    mentee = await conn.fetchrow(
        "SELECT count(*) AS rows, count(*) FILTER (WHERE name <> $2) AS readable FROM mentees WHERE mentee_id = $1",
        person_id,
        ERASED,
    )
    requests = await conn.fetchrow(
        "SELECT count(*) AS rows, count(*) FILTER (WHERE biography <> $2 OR motivation <> $2"
        " OR coalesce(decline_reason, $2) <> $2) AS readable FROM requests WHERE mentee_id = $1",
        person_id,
        ERASED,
    )
    return [
        Place("table mentor_directory", "name, biography", mentor["rows"], mentor["readable"]),
        Place("table mentees", "name", mentee["rows"], mentee["readable"]),
        Place("table requests", "biography, motivation, decline reason", requests["rows"], requests["readable"]),
    ]
