"""Timer handler: a missed response deadline passes the request to the next choice."""

from __future__ import annotations

import asyncpg

from services.matching.application.deps import Deps
from services.matching.application.forwarding import eligibility
from services.matching.application.program import get_program
from services.matching.application.request_repository import RESPONSE_DEADLINE
from shared.timers import Timer, TimerHandler


def timer_handlers(deps: Deps) -> dict[str, TimerHandler]:
    async def on_response_deadline(conn: asyncpg.Connection, timer: Timer) -> None:
        request = await deps.requests.load(conn, timer.subject)
        if request.choice_rank != timer.payload.get("choice_rank"):
            return
        now = deps.clock.now()
        program = await get_program(conn, deps)
        events = request.expire(now, await eligibility(conn, request), program.respond_by(now))
        await deps.requests.commit(conn, request, events)

    return {RESPONSE_DEADLINE: on_response_deadline}
