"""Use case: the director matches the mentee of an unmatched request with a mentor of their choosing."""

from __future__ import annotations

from services.matching.application.commands import AdminMatch
from services.matching.application.deps import Deps
from services.matching.application.eligibility import exclusions_for
from services.matching.domain.errors import InvalidCommand


async def handle(deps: Deps, cmd: AdminMatch) -> int:
    async with deps.transactions() as conn:
        request = await deps.requests.get(conn, cmd.request_id)
        events = request.admin_match(cmd.admin_id, cmd.mentor_id, deps.clock.now())
        exclusions = await exclusions_for(deps, conn, request.mentee_id, [cmd.mentor_id], request.program_id)
        why = exclusions[cmd.mentor_id]
        if why is not None:
            raise InvalidCommand("mentor_id", why)
        return await deps.requests.commit(conn, request, events, correlation_id=cmd.correlation_id)
