"""Matching's durable timers: kind → handler (the timer wheel calls it in its own transaction)."""

from __future__ import annotations

import asyncpg

from services.matching.application import expire_request
from services.matching.application.deps import Deps
from services.matching.application.request_repository import RESPONSE_DEADLINE
from shared.ports import Timer
from shared.timers import TimerHandler


def timer_handlers(deps: Deps) -> dict[str, TimerHandler]:
    async def on_response_deadline(conn: asyncpg.Connection, timer: Timer) -> None:
        await expire_request.handle(deps, conn, timer.subject, timer.payload.get("choice_rank"))

    return {RESPONSE_DEADLINE: on_response_deadline}
