"""The ``hr.events`` consumer's handlers and the handler of HR effective-date timers."""

from __future__ import annotations

import asyncpg

from services.profiles.adapters import hr_records
from services.profiles.application.follow_worker import follow_worker
from services.profiles.application.record_hr_fact import record_hr_fact
from services.profiles.domain.worker import HR_FACT_TYPES
from shared.clock import Clock
from shared.envelope import Envelope
from shared.events import Event
from shared.eventstore import EventStore
from shared.inbox import Handler
from shared.timers import Timer, TimerHandler


def hr_handlers(store: EventStore, clock: Clock) -> dict[str, Handler]:
    async def on_hr_fact(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        await record_hr_fact(conn, store, event, envelope, clock.now().date())

    return {name: on_hr_fact for name in sorted(HR_FACT_TYPES | {"HrEventRescinded"})}


def hr_timer_handlers(store: EventStore, clock: Clock) -> dict[str, TimerHandler]:
    """When a forward-dated HR fact's date arrives, the participant follows the worker again."""

    async def on_effective_date(conn: asyncpg.Connection, timer: Timer) -> None:
        await follow_worker(conn, store, timer.subject, clock.now().date())

    return {hr_records.HR_TIMER: on_effective_date}
