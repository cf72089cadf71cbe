"""Timer handlers: reminders fall due, the digest is bundled, a failed delivery is tried again."""

from __future__ import annotations

import asyncpg

from services.notifications.application import reminders
from services.notifications.application.deliver import DELIVERY_RETRY, retry_handler
from services.notifications.application.deps import Deps
from services.notifications.application.digest import on_digest_due
from services.notifications.application.record_notices import DIGEST
from shared.timers import Timer, TimerHandler


def timer_handlers(deps: Deps) -> dict[str, TimerHandler]:
    def with_deps(handler) -> TimerHandler:
        async def fire(conn: asyncpg.Connection, timer: Timer) -> None:
            await handler(conn, deps, timer)

        return fire

    return {
        reminders.RESPONSE_REMINDER: with_deps(reminders.on_response_reminder),
        reminders.CADENCE_REMINDER: with_deps(reminders.on_cadence_reminder),
        DIGEST: with_deps(on_digest_due),
        DELIVERY_RETRY: retry_handler(deps),
    }
