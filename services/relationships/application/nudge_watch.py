"""Nudges on durable timers: to schedule the next meeting, to re-engage when inactive, and the director's notice.

A commit hook of the relationship repository (beside the cadence watch) arms, after every change of a
relationship, ``nudge:<id>`` some days before the pair would lag and, while it lags, ``inactivity:<id>`` at the
end of the program's inactivity period; closing (or a meeting that ends the lapse) cancels them.  Each timer,
when it fires, lets ``RelationshipNudges`` decide from the state at that moment (``domain/nudges.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from services.relationships.application.ports import ProgramTerms
from services.relationships.application.scheduling_ports import ScheduledMeetings
from services.relationships.domain.nudges import RelationshipNudges, nudges_stream
from services.relationships.domain.relationship import Relationship
from shared.events import Event
from shared.ports import Conn, EventStorePort, Timer, TimersPort
from shared.repository import Repository

NUDGE, INACTIVITY, INACTIVE_NOTICE = "relationship-nudge", "relationship-inactivity", "relationship-inactive-notice"


@dataclass(frozen=True)
class NudgeRules:
    grace: timedelta
    programs: ProgramTerms
    nudge_days_before_lagging: int = 7
    inactive_notice_days: int = 30


async def inactivity_days_for(rules: NudgeRules, conn: Conn, relationship: Relationship) -> int:
    """THE single place the inactivity period is read: the relationship's program's terms (``ProgramTerms``;
    the built-in ``default`` program and one not heard of yet: 90 days)."""
    return (await rules.programs.terms(conn, relationship.program_id)).inactivity_days


def _at_start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class NudgeWatch:
    """After every relationship commit: arm, move or cancel its nudge and inactivity timers."""

    def __init__(self, timers: TimersPort, rules: NudgeRules) -> None:
        self.timers, self.rules = timers, rules

    async def __call__(self, conn: Conn, relationship: Relationship, events: Sequence[Event], now: datetime) -> None:
        rid = relationship.relationship_id
        lagging_on = relationship.lagging_on(self.rules.grace)
        if lagging_on is None:
            for key in (f"nudge:{rid}", f"inactivity:{rid}", f"inactive-notice:{rid}"):
                await self.timers.cancel(conn, key)
            return
        if relationship.lagging:
            await self.timers.cancel(conn, f"nudge:{rid}")
            days = await inactivity_days_for(self.rules, conn, relationship)
            due = _at_start_of(lagging_on + timedelta(days=days))
            if due > now:
                await self.timers.schedule(conn, f"inactivity:{rid}", INACTIVITY, rid, due)
            return
        await self.timers.cancel(conn, f"inactivity:{rid}")
        await self.timers.cancel(conn, f"inactive-notice:{rid}")
        nudge_at = _at_start_of(lagging_on - timedelta(days=self.rules.nudge_days_before_lagging))
        if nudge_at > now:
            await self.timers.schedule(conn, f"nudge:{rid}", NUDGE, rid, nudge_at)


@dataclass(frozen=True)
class Nudging:
    relationships: Repository[Relationship]
    nudges: Repository[RelationshipNudges]
    scheduled: ScheduledMeetings
    timers: TimersPort
    rules: NudgeRules
    today: Callable[[], date]
    now: Callable[[], datetime]


async def _load(n: Nudging, conn: Conn, rid: str) -> tuple[Relationship, RelationshipNudges] | None:
    relationship = await n.relationships.load_or_none(conn, rid)
    if relationship is None:
        return None
    return relationship, await n.nudges.load(conn, nudges_stream(rid))


async def on_nudge_due(n: Nudging, conn: Conn, timer: Timer) -> None:
    if (loaded := await _load(n, conn, timer.subject)) is None:
        return
    relationship, nudges = loaded
    upcoming = await n.scheduled.next_accepted(conn, timer.subject, n.now())
    await n.nudges.commit(conn, nudges, nudges.nudge_to_schedule(relationship, n.rules.grace, n.today(), upcoming))


async def on_inactivity_due(n: Nudging, conn: Conn, timer: Timer) -> None:
    if (loaded := await _load(n, conn, timer.subject)) is None:
        return
    relationship, nudges = loaded
    days = await inactivity_days_for(n.rules, conn, relationship)
    events = nudges.reengage(relationship, n.rules.grace, n.today(), days)
    await n.nudges.commit(conn, nudges, events)
    if events:
        due = _at_start_of(n.today() + timedelta(days=n.rules.inactive_notice_days))
        await n.timers.schedule(conn, f"inactive-notice:{timer.subject}", INACTIVE_NOTICE, timer.subject, due)


async def on_inactive_notice_due(n: Nudging, conn: Conn, timer: Timer) -> None:
    if (loaded := await _load(n, conn, timer.subject)) is None:
        return
    relationship, nudges = loaded
    events = nudges.notice_director(relationship, n.rules.grace, n.today(), n.rules.inactive_notice_days)
    await n.nudges.commit(conn, nudges, events)


def nudges_repository(store: EventStorePort) -> Repository[RelationshipNudges]:
    return Repository(store, RelationshipNudges, not_found=lambda stream: LookupError(stream))


def nudge_timer_handlers(n: Nudging) -> dict[str, Callable[[Conn, Timer], Awaitable[None]]]:
    async def nudge(conn: Conn, timer: Timer) -> None:
        await on_nudge_due(n, conn, timer)

    async def inactivity(conn: Conn, timer: Timer) -> None:
        await on_inactivity_due(n, conn, timer)

    async def notice(conn: Conn, timer: Timer) -> None:
        await on_inactive_notice_due(n, conn, timer)

    return {NUDGE: nudge, INACTIVITY: inactivity, INACTIVE_NOTICE: notice}
