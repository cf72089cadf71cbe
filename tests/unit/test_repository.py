"""The shared aggregate repository, handler table and in-memory ports (what every service builds on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest

from shared.aggregate import Aggregate
from shared.errors import ConcurrencyConflict
from shared.events import Event
from shared.events.profiles import ParticipantDeactivated, ParticipantErased, ParticipantReactivated
from shared.handlers import EventHandlers
from shared.inbox import PermanentError
from shared.repository import Repository, deciding_afresh
from shared.testing import FixedClock, InMemoryEventStore, InMemoryTimers, MemoryTransactions

pytestmark = pytest.mark.unit

DAY = date(2026, 1, 5)


class Gone(LookupError):
    pass


@dataclass
class Switch(Aggregate):
    """A toy aggregate: a participant's active flag, built from real catalog events."""

    id_field = "participant_id"
    participant_id: str
    version: int = 0
    active: bool = True
    changed_at: list[datetime] = field(default_factory=list)

    def deactivate(self) -> list[Event]:
        return (
            [ParticipantDeactivated(participant_id=self.participant_id, reason="on_leave", effective_date=DAY)]
            if self.active
            else []
        )

    def reactivate(self) -> list[Event]:
        return [] if self.active else [ParticipantReactivated(participant_id=self.participant_id, effective_date=DAY)]

    def evolve(self, event: Event, at: datetime) -> None:
        self.active = not isinstance(event, ParticipantDeactivated)
        self.changed_at.append(at)


def repository(store, hooks=()) -> Repository[Switch]:
    return Repository(store, Switch, not_found=lambda i: Gone(f"no participant {i}"), on_commit=hooks)


async def test_commit_appends_applies_and_runs_hooks_in_order():
    clock = FixedClock()
    store, seen = InMemoryEventStore(clock=clock), []

    async def hook(conn, switch, events, now):
        seen.append((switch.version, [e.type_name() for e in events], now))

    repo = repository(store, [hook])
    switch = await repo.load(None, "p1")
    assert not switch.exists and await repo.load_or_none(None, "p1") is None
    assert await repo.commit(None, switch, switch.deactivate()) == 1
    assert switch.active is False and seen == [(1, ["ParticipantDeactivated"], clock.now())]
    again = await repo.get(None, "p1")
    assert (again.version, again.active, again.changed_at) == (1, False, [clock.now()])
    assert await repo.commit(None, again, again.deactivate()) == 1  # nothing decided, nothing appended
    assert len(seen) == 1


async def test_a_stale_version_is_a_conflict_and_writes_nothing():
    store = InMemoryEventStore()
    repo = repository(store)
    first, second = await repo.load(None, "p1"), await repo.load(None, "p1")
    await repo.commit(None, first, first.deactivate())
    with pytest.raises(ConcurrencyConflict):
        await repo.commit(None, second, second.deactivate())
    assert len(store.events("p1")) == 1
    with pytest.raises(ConcurrencyConflict):
        await repo.get(None, "p1", expected_version=0)
    with pytest.raises(Gone, match="no participant p2"):
        await repo.get(None, "p2")


async def test_a_decision_overtaken_by_another_writer_is_made_afresh_on_what_is_there_now():
    store = InMemoryEventStore()
    repo = repository(store)
    overtaken = []

    async def reactivate_once_someone_else_deactivated() -> int:
        switch = await repo.load(None, "p1")
        if not overtaken:  # another writer (HR's feed) commits between this load and this commit
            other = await repo.load(None, "p1")
            overtaken.append(await repo.commit(None, other, other.deactivate()))
        return await repo.commit(None, switch, switch.reactivate() or switch.deactivate())

    assert await deciding_afresh(reactivate_once_someone_else_deactivated) == 2  # decided again at version 1
    assert [e.type_name() for e in store.events("p1")] == ["ParticipantDeactivated", "ParticipantReactivated"]

    async def always_overtaken() -> int:
        switch = await repo.load(None, "p1")
        other = await repo.load(None, "p1")
        await repo.commit(None, other, other.deactivate() or other.reactivate())
        return await repo.commit(None, switch, switch.deactivate() or switch.reactivate())

    with pytest.raises(ConcurrencyConflict):  # a writer that always gets there first: the conflict stays a 409
        await deciding_afresh(always_overtaken, attempts=2)


async def test_a_failing_hook_rolls_the_memory_transaction_back():
    store, timers = InMemoryEventStore(), InMemoryTimers()

    async def refuse(conn, switch, events, now):
        await timers.schedule(conn, "k", "kind", switch.stream_id, now)
        raise RuntimeError("view row refused")

    transactions = MemoryTransactions(store, timers)
    repo = repository(store, [refuse])
    with pytest.raises(RuntimeError):
        async with transactions() as conn:
            switch = await repo.load(conn, "p1")
            await repo.commit(conn, switch, switch.deactivate())
    assert store.events() == [] and timers.armed == {}
    assert store.clock is not None and (await repo.load(None, "p1")).version == 0


async def test_timers_fire_once_when_due():
    timers, clock = InMemoryTimers(), FixedClock()
    await timers.schedule(None, "a", "deadline", "r1", clock.now() + timedelta(days=1))
    await timers.schedule(None, "b", "deadline", "r2", clock.now() + timedelta(days=2))
    assert await timers.cancel(None, "b") and not await timers.cancel(None, "b")
    assert timers.due(clock.now()) == []
    assert [t.key for t in timers.due(clock.advance(days=1))] == ["a"]
    assert timers.due(clock.advance(days=5)) == [] and timers.fired == ["a"]


async def test_handlers_receive_typed_events_in_registration_order():
    handlers, calls = EventHandlers(), []

    @handlers.on(ParticipantDeactivated, ParticipantErased)
    async def first(conn, event, envelope):
        calls.append(("first", type(event).__name__))

    other = EventHandlers()

    @other.on(ParticipantErased)
    async def second(conn, event, envelope):
        calls.append(("second", event.participant_id))

    table = handlers.include(other).inbox_handlers()
    assert set(table) == {"ParticipantDeactivated", "ParticipantErased"}
    await table["ParticipantErased"](None, ParticipantErased(participant_id="p9"), None)
    assert calls == [("first", "ParticipantErased"), ("second", "p9")]
    with pytest.raises(TypeError):
        handlers.on()


def test_an_aggregate_must_name_its_stream_id_field():
    with pytest.raises(TypeError, match="id_field"):
        type("Nameless", (Aggregate,), {})


async def test_a_permanent_error_of_a_step_becomes_a_dead_letter_and_others_stay_retryable():
    class Impossible(ValueError):
        pass

    handlers = EventHandlers(permanent=(Impossible,))
    outcomes = iter([Impossible("p9 names another employee"), RuntimeError("database hiccup")])

    @handlers.on(ParticipantErased)
    async def step(conn, event, envelope):
        raise next(outcomes)

    handle = handlers.inbox_handlers()["ParticipantErased"]
    with pytest.raises(PermanentError, match="p9 names another employee"):
        await handle(None, ParticipantErased(participant_id="p9"), None)
    with pytest.raises(RuntimeError, match="hiccup"):  # not permanent: the consumer retries it
        await handle(None, ParticipantErased(participant_id="p9"), None)
