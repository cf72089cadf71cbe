"""Use case: the program director approves a request (it goes to the first eligible choice) or declines it."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.matching.application.deps import Deps
from services.matching.application.forwarding import eligibility
from services.matching.application.program import get_program


async def review_request(
    pool: asyncpg.Pool,
    deps: Deps,
    request_id: str,
    reviewer_id: str,
    approved: bool,
    decline_reason: str | None,
    correlation_id: UUID | None = None,
) -> int:
    async with pool.acquire() as conn, conn.transaction():
        request = await deps.requests.get(conn, request_id)
        program = await get_program(conn, deps)
        eligible = await eligibility(conn, request)
        events = request.review(reviewer_id, approved, decline_reason, eligible, program.respond_by(deps.clock.now()))
        return await deps.requests.commit(conn, request, events, correlation_id=correlation_id)
