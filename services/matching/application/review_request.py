"""Use case: the program director approves a request (it goes to the first eligible choice) or declines it."""

from __future__ import annotations

from services.matching.application.commands import ReviewRequest
from services.matching.application.deps import Deps
from services.matching.application.eligibility import eligibility
from services.matching.application.program import program_of


async def handle(deps: Deps, cmd: ReviewRequest) -> int:
    async with deps.transactions() as conn:
        request = await deps.requests.get(conn, cmd.request_id)
        program = await program_of(deps, conn, request.program_id)
        eligible = await eligibility(deps, conn, request)
        respond_by = program.respond_by(deps.clock.now())
        events = request.review(cmd.reviewer_id, cmd.approved, cmd.decline_reason, eligible, respond_by)
        return await deps.requests.commit(conn, request, events, correlation_id=cmd.correlation_id)
