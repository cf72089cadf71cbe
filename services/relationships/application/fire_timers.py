"""Timer handlers: a due cadence timer marks the relationship lagging, a due review timer asks for the review."""

from __future__ import annotations

import asyncpg

from services.relationships.application.cadence_watch import CADENCE, REVIEW
from services.relationships.application.deps import Deps
from shared.timers import Timer, TimerHandler


def timer_handlers(deps: Deps) -> dict[str, TimerHandler]:
    async def on_cadence(conn: asyncpg.Connection, timer: Timer) -> None:
        relationship = await deps.relationships.load(conn, timer.subject)
        await deps.relationships.commit(
            conn, relationship, relationship.check_cadence(deps.today(), deps.cadence_grace)
        )

    async def on_review(conn: asyncpg.Connection, timer: Timer) -> None:
        relationship = await deps.relationships.load(conn, timer.subject)
        await deps.relationships.commit(conn, relationship, relationship.check_review(deps.today()))

    return {CADENCE: on_cadence, REVIEW: on_review}
