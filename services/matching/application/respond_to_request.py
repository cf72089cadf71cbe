"""Use case: the mentor a request was forwarded to accepts (a match) or declines (the next choice gets it)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.matching.application.deps import Deps
from services.matching.application.forwarding import eligibility
from services.matching.application.program import get_program


async def respond_to_request(
    pool: asyncpg.Pool,
    deps: Deps,
    request_id: str,
    mentor_id: str,
    accepted: bool,
    reason: str | None,
    correlation_id: UUID | None = None,
) -> int:
    async with pool.acquire() as conn, conn.transaction():
        request = await deps.requests.get(conn, request_id)
        program = await get_program(conn, deps)
        now = deps.clock.now()
        eligible = await eligibility(conn, request)
        events = request.respond(mentor_id, accepted, reason, eligible, program.respond_by(now), now)
        return await deps.requests.commit(conn, request, events, correlation_id=correlation_id)
