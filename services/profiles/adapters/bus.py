"""What profiles does with what it consumes: HR facts off ``hr.events``, and the timers of forward-dated facts."""

from __future__ import annotations

from services.profiles.application import follow_worker, record_hr_fact
from services.profiles.application.commands import FollowWorker, RecordHrFact
from services.profiles.application.ports import Ports
from services.profiles.domain.worker import HR_FACTS, HR_TIMER, ImpossibleHrFact
from shared.envelope import Envelope
from shared.events import Event
from shared.events.hr import HrEventRescinded
from shared.handlers import EventHandlers
from shared.ports import Conn, Timer
from shared.timers import TimerHandler


def hr_handlers(ports: Ports) -> EventHandlers:
    handlers = EventHandlers(permanent=(ImpossibleHrFact,))  # a fact that can never make sense: dead-lettered

    @handlers.on(*HR_FACTS, HrEventRescinded)
    async def record(conn: Conn, event: Event, envelope: Envelope) -> None:
        fact = RecordHrFact(event, envelope.id, envelope.subject, envelope.correlationid)
        await record_hr_fact.handle(ports, conn, fact)

    return handlers


def hr_timer_handlers(ports: Ports) -> dict[str, TimerHandler]:
    """When a forward-dated HR fact's date arrives, the participant follows the worker again."""

    async def on_effective_date(conn: Conn, timer: Timer) -> None:
        await follow_worker.handle(ports, conn, FollowWorker(timer.subject, ports.clock.now().date()))

    return {HR_TIMER: on_effective_date}
