"""The timer kinds notifications sets, each to its use case: reminders fall due, the digest is bundled,
a failed delivery is tried again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.notifications.application import meetings, reminders
from services.notifications.application.deliver import DELIVERY_RETRY, retry_due
from services.notifications.application.deps import Deps
from services.notifications.application.digest import digest_due
from services.notifications.application.record_notices import DIGEST
from shared.ports import Conn, Timer
from shared.timers import TimerHandler

UseCase = Callable[[Deps, Conn, Timer], Awaitable[None]]


def timer_handlers(deps: Deps) -> dict[str, TimerHandler]:
    def fired(use_case: UseCase) -> TimerHandler:
        return lambda conn, timer: use_case(deps, conn, timer)

    return {
        reminders.RESPONSE_REMINDER: fired(reminders.response_reminder_due),
        reminders.CADENCE_REMINDER: fired(reminders.cadence_reminder_due),
        meetings.MEETING_REMINDER: fired(meetings.reminder_due),
        meetings.MEETING_HELD_CHECK: fired(meetings.held_check_due),
        DIGEST: fired(digest_due),
        DELIVERY_RETRY: fired(retry_due),
    }
