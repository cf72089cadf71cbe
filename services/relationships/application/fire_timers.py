"""Timer handlers: a due cadence timer marks the relationship lagging, a due review timer asks for the review."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.relationships.application.cadence_watch import CADENCE, REVIEW
from services.relationships.application.container import Container
from shared.ports import Conn, Timer

TimerStep = Callable[[Conn, Timer], Awaitable[None]]


async def on_cadence_due(c: Container, conn: Conn, timer: Timer) -> None:
    relationship = await c.relationships.load(conn, timer.subject)
    await c.relationships.commit(conn, relationship, relationship.check_cadence(c.today(), c.cadence_grace))


async def on_review_due(c: Container, conn: Conn, timer: Timer) -> None:
    relationship = await c.relationships.load(conn, timer.subject)
    await c.relationships.commit(conn, relationship, relationship.check_review(c.today()))


def timer_handlers(c: Container) -> dict[str, TimerStep]:
    """By timer kind, what the timer wheel runs (in its transaction) when one falls due."""

    async def cadence(conn: Conn, timer: Timer) -> None:
        await on_cadence_due(c, conn, timer)

    async def review(conn: Conn, timer: Timer) -> None:
        await on_review_due(c, conn, timer)

    return {CADENCE: cadence, REVIEW: review}
