"""A participant who chose the daily digest gets one message a day bundling what was held for them."""

from __future__ import annotations

import asyncpg

from services.notifications.application.deps import Deps
from services.notifications.application.record_notices import (
    DIGEST,
    record_intent,
    wake_worker,
)
from services.notifications.domain.audience import Notice
from services.notifications.domain.causes import timer_cause_id
from shared.timers import Timer


async def on_digest_due(conn: asyncpg.Connection, deps: Deps, timer: Timer) -> None:
    held = await conn.fetch(
        "UPDATE intents SET status = 'bundled' WHERE recipient_id = $1 AND status = 'held' AND due_at <= $2"
        " RETURNING notification_id, channel, due_at",
        timer.subject,
        timer.due_at,
    )
    by_channel: dict[str, list[str]] = {}
    for row in sorted(held, key=lambda r: r["due_at"]):
        by_channel.setdefault(row["channel"], []).append(str(row["notification_id"]))
    cause_id = timer_cause_id(timer.key, timer.due_at)
    for channel, items in by_channel.items():
        notice = Notice(timer.subject, DIGEST, {"items": items})
        await record_intent(conn, cause_id, notice, channel, "pending", deps.clock.now())
    if by_channel:
        await wake_worker(conn)
