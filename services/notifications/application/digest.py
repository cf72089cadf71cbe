"""A participant who chose the daily digest gets one message a day per channel bundling what was held."""

from __future__ import annotations

from services.notifications.application.deps import Deps
from services.notifications.application.ports import PENDING, Candidate
from services.notifications.application.record_notices import DIGEST
from services.notifications.domain.audience import Notice
from services.notifications.domain.causes import notification_id, timer_cause_id
from shared.ports import Conn, Timer


async def digest_due(deps: Deps, conn: Conn, timer: Timer) -> None:
    held = await deps.intents.bundle_held(conn, timer.subject, timer.due_at)
    by_channel: dict[str, list[str]] = {}
    for item in sorted(held, key=lambda h: h.due_at):
        by_channel.setdefault(item.channel, []).append(str(item.notification_id))
    cause_id = timer_cause_id(timer.key, timer.due_at)
    for channel, items in by_channel.items():
        notice = Notice(timer.subject, DIGEST, {"items": items})
        candidate = Candidate(notification_id(cause_id, timer.subject, channel), notice, channel)
        await deps.intents.add(conn, cause_id, candidate, PENDING, deps.clock.now())
    if by_channel:
        await deps.intents.wake_worker(conn)
