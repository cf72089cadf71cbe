"""Use case: the director matches the mentee of an unmatched request with a mentor of their choosing."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.matching.application.deps import Deps
from services.matching.application.mentors import exclusions
from services.matching.domain.errors import InvalidCommand


async def admin_match(
    pool: asyncpg.Pool, deps: Deps, request_id: str, admin_id: str, mentor_id: str, correlation_id: UUID | None = None
) -> int:
    async with pool.acquire() as conn, conn.transaction():
        request = await deps.requests.get(conn, request_id)
        events = request.admin_match(admin_id, mentor_id, deps.clock.now())
        why = (await exclusions(conn, request.mentee_id, [mentor_id]))[mentor_id]
        if why is not None:
            raise InvalidCommand("mentor_id", why)
        return await deps.requests.commit(conn, request, events, correlation_id=correlation_id)
