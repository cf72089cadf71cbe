"""Use case: the mentee (or the director) withdraws a request that is still open or waiting for a match."""

from __future__ import annotations

from services.matching.application.commands import WithdrawRequest
from services.matching.application.deps import Deps
from services.matching.domain.rules import check_withdrawer


async def handle(deps: Deps, cmd: WithdrawRequest) -> int:
    async with deps.transactions() as conn:
        request = await deps.requests.get(conn, cmd.request_id)
        check_withdrawer(
            request.request_id, cmd.subject, request.mentee_id, request.forwarded_to, director=cmd.director
        )
        return await deps.requests.commit(
            conn, request, request.withdraw(cmd.reason), correlation_id=cmd.correlation_id
        )
