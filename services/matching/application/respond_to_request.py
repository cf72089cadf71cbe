"""Use case: the mentor a request was forwarded to accepts (a match) or declines (the next choice gets it).

An acceptance takes the mentor's slot as the request commits (``request_repository``): a full mentor refuses
(409) and the request stays forwarded.
"""

from __future__ import annotations

from services.matching.application.commands import RespondToRequest
from services.matching.application.deps import Deps
from services.matching.application.eligibility import eligibility
from services.matching.application.program import program_of


async def handle(deps: Deps, cmd: RespondToRequest) -> int:
    async with deps.transactions() as conn:
        request = await deps.requests.get(conn, cmd.request_id)
        program = await program_of(deps, conn, request.program_id)
        now = deps.clock.now()
        eligible = await eligibility(deps, conn, request)
        events = request.respond(cmd.mentor_id, cmd.accepted, cmd.reason, eligible, program.respond_by(now), now)
        return await deps.requests.commit(conn, request, events, correlation_id=cmd.correlation_id)
