"""Use case (timer): a missed response deadline passes the request to the next choice.

A timer set for an earlier choice than the one the request now waits on decides nothing.
"""

from __future__ import annotations

from services.matching.application.deps import Deps
from services.matching.application.eligibility import eligibility
from services.matching.application.program import program_of
from shared.ports import Conn


async def handle(deps: Deps, conn: Conn, request_id: str, choice_rank: int | None) -> None:
    request = await deps.requests.load(conn, request_id)
    if request.choice_rank != choice_rank:
        return
    now = deps.clock.now()
    program = await program_of(deps, conn, request.program_id)
    events = request.expire(now, await eligibility(deps, conn, request), program.respond_by(now))
    await deps.requests.commit(conn, request, events)
