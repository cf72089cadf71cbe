"""Use case: the mentee (or the director) withdraws a request that is still open or waiting for a match."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.matching.application.deps import Deps


async def withdraw_request(
    pool: asyncpg.Pool, deps: Deps, request_id: str, reason: str | None, correlation_id: UUID | None = None
) -> int:
    async with pool.acquire() as conn, conn.transaction():
        request = await deps.requests.get(conn, request_id)
        return await deps.requests.commit(conn, request, request.withdraw(reason), correlation_id=correlation_id)
