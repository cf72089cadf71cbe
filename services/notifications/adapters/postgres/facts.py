"""What notifications remembers of requests and relationships for later events (``requests``, ``relationships``)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from services.notifications.application.ports import Parties


class PostgresRequests:
    async def remember(self, conn: asyncpg.Connection, request_id: str, mentee_id: str, biography: str) -> None:
        await conn.execute(
            "INSERT INTO requests (request_id, mentee_id, biography) VALUES ($1, $2, $3)"
            " ON CONFLICT (request_id) DO UPDATE SET mentee_id = EXCLUDED.mentee_id, biography = EXCLUDED.biography",
            request_id,
            mentee_id,
            biography,
        )

    async def mentee_of(self, conn: asyncpg.Connection, request_id: str) -> str | None:
        return await conn.fetchval("SELECT mentee_id FROM requests WHERE request_id = $1", request_id)

    async def biography_of(self, conn: asyncpg.Connection, request_id: str) -> str | None:
        return await conn.fetchval("SELECT biography FROM requests WHERE request_id = $1", request_id)

    async def forget_mentee(self, conn: asyncpg.Connection, mentee_id: str) -> None:
        await conn.execute("DELETE FROM requests WHERE mentee_id = $1", mentee_id)


class PostgresRelationships:
    async def remember(
        self, conn: asyncpg.Connection, relationship_id: str, mentor_id: str, mentee_ids: Sequence[str]
    ) -> None:
        await conn.execute(
            "INSERT INTO relationships (relationship_id, mentor_id, mentee_ids) VALUES ($1, $2, $3)"
            " ON CONFLICT (relationship_id) DO UPDATE"
            " SET mentor_id = EXCLUDED.mentor_id, mentee_ids = EXCLUDED.mentee_ids",
            relationship_id,
            mentor_id,
            list(mentee_ids),
        )

    async def parties_of(self, conn: asyncpg.Connection, relationship_id: str) -> Parties | None:
        row = await conn.fetchrow(
            "SELECT mentor_id, mentee_ids FROM relationships WHERE relationship_id = $1", relationship_id
        )
        return None if row is None else Parties(row["mentor_id"], list(row["mentee_ids"]))

    async def set_cadence(self, conn: asyncpg.Connection, relationship_id: str, cadence_weeks_max: int) -> None:
        await conn.execute(
            "UPDATE relationships SET cadence_weeks_max = $2 WHERE relationship_id = $1",
            relationship_id,
            cadence_weeks_max,
        )

    async def cadence_of(self, conn: asyncpg.Connection, relationship_id: str) -> int | None:
        return await conn.fetchval(
            "SELECT cadence_weeks_max FROM relationships WHERE relationship_id = $1", relationship_id
        )
