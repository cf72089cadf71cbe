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
        self,
        conn: asyncpg.Connection,
        relationship_id: str,
        mentor_id: str | None,
        mentee_ids: Sequence[str],
        co_mentor_ids: Sequence[str] = (),
    ) -> None:
        await conn.execute(
            "INSERT INTO relationships (relationship_id, mentor_id, mentee_ids, co_mentor_ids) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (relationship_id) DO UPDATE SET mentor_id = EXCLUDED.mentor_id,"
            " mentee_ids = EXCLUDED.mentee_ids, co_mentor_ids = EXCLUDED.co_mentor_ids",
            relationship_id,
            mentor_id,
            list(mentee_ids),
            list(co_mentor_ids),
        )

    async def parties_of(self, conn: asyncpg.Connection, relationship_id: str) -> Parties | None:
        row = await conn.fetchrow(
            "SELECT mentor_id, mentee_ids, co_mentor_ids FROM relationships WHERE relationship_id = $1", relationship_id
        )
        if row is None:
            return None
        return Parties(row["mentor_id"], list(row["mentee_ids"]), list(row["co_mentor_ids"]))

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
