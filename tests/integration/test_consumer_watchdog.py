"""The consumer watchdog on the real broker and Postgres: a stuck consumer is found, leaves its group, joins
again and handles what waited, each event once; ``/readyz``'s consumer check is false meanwhile; the
recovery is counted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY

from shared.bus import new_producer
from shared.events.profiles import MentorCapacityChanged
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from tests.helpers import envelope_of, eventually

pytestmark = pytest.mark.integration

SESSION_MS = 2_000  # the watchdog's bound is twice this


class Watched:
    """A service runtime whose only handler records each event's capacity in ``effects``."""

    def __init__(self, bootstrap: str, dsn: str) -> None:
        self.bootstrap = bootstrap
        self.group = f"watched-{uuid.uuid4().hex[:8]}"
        self.topic = f"{self.group}-in"
        settings = ServiceSettings(
            service_name=self.group, pg_dsn=dsn, kafka_bootstrap=bootstrap, consumer_session_timeout_ms=SESSION_MS
        )
        self.runtime = ServiceRuntime(
            settings, handlers={"MentorCapacityChanged": self.on_capacity}, consumes=[self.topic], publishes=False
        )
        self.unready_seen = False

    async def on_capacity(self, conn, event, envelope) -> None:
        await conn.execute("INSERT INTO effects (event_id, value) VALUES ($1, $2)", envelope.id, event.new_capacity)

    @property
    def subscription(self):
        return self.runtime.watchdog.subscription

    def recoveries(self, reason: str) -> float:
        return (
            REGISTRY.get_sample_value("mentorship_consumer_recoveries_total", {"group": self.group, "reason": reason})
            or 0.0
        )

    async def assigned(self) -> bool:
        consumer = self.subscription.consumer
        return consumer is not None and bool(consumer.assignment())

    async def send(self, *capacities: int) -> None:
        producer = new_producer(self.bootstrap)
        await producer.start()
        try:
            for new in capacities:
                event = MentorCapacityChanged(participant_id=f"m{new}", old_capacity=0, new_capacity=new)
                envelope = envelope_of(event, f"m{new}", time=datetime.now(UTC))
                await producer.send_and_wait(self.topic, envelope.to_bytes(), key=f"m{new}".encode())
        finally:
            await producer.stop()

    async def effects(self) -> list[int]:
        return sorted(r["value"] for r in await self.runtime.pool.fetch("SELECT value FROM effects"))

    async def watch_readiness(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            checks = await self.runtime.ready()
            self.unready_seen |= checks["consumer"] is False
            await asyncio.sleep(0.05)


@pytest.fixture
async def watched(broker, fresh_dsn) -> AsyncIterator[Watched]:
    watched = Watched(broker.bootstrap, fresh_dsn)
    async with watched.runtime.running():
        await watched.runtime.pool.execute("CREATE TABLE effects (event_id uuid PRIMARY KEY, value int)")
        await eventually(watched.assigned, timeout=30)
        yield watched


async def recovered_with(watched: Watched, stuck: str, values: list[int], before: tuple[int, ...] = ()) -> None:
    """Send ``values`` to the stuck consumer; each must take effect once (after ``before``), with readiness
    false on the way."""
    stop = asyncio.Event()
    sampler = asyncio.create_task(watched.watch_readiness(stop))
    try:
        await watched.send(*values)

        async def all_handled() -> bool:
            return await watched.effects() == sorted([*before, *values])

        await eventually(all_handled, timeout=60)
        await eventually(lambda: _ready(watched), timeout=30)
    finally:
        stop.set()
        await sampler
    assert watched.unready_seen, "readiness never said the consumer was stuck"
    assert watched.recoveries(stuck) == 1
    # Each once: the effects table's key refuses a second row for an event.
    assert await watched.effects() == sorted([*before, *values])


async def test_a_member_that_stops_polling_leaves_and_rejoins(watched: Watched) -> None:
    """It keeps heartbeating (the group sees it alive and keeps its partitions) but its poll loop is gone."""
    assert watched.recoveries("stalled") == 0
    for task in watched.subscription.subscriber.tasks:
        task.cancel()
    await recovered_with(watched, "stalled", [1, 2, 3, 4, 5, 6])


async def test_a_consumer_left_without_partitions_rejoins(watched: Watched) -> None:
    """It holds no partition while the group (itself alone) should give it all three."""
    await watched.send(7)
    await eventually(lambda: _effects_are(watched, [7]), timeout=30)
    watched.subscription.consumer.unsubscribe()
    await recovered_with(watched, "unassigned", [8, 9, 10], before=(7,))


async def _ready(watched: Watched) -> bool:
    return all((await watched.runtime.ready()).values())


async def _effects_are(watched: Watched, values: list[int]) -> bool:
    return await watched.effects() == values


async def test_partitions_nobody_handles_are_noticed(watched: Watched) -> None:
    """A second member joins, takes partitions, heartbeats and never polls, like a member the broker should have
    evicted: the watched member sees records wait there with no committed offset moving and rejoins (readiness
    false, counted).  Once that member leaves, everything is handled, once."""
    zombie = AIOKafkaConsumer(
        watched.topic,
        bootstrap_servers=watched.bootstrap,
        group_id=watched.group,
        session_timeout_ms=SESSION_MS,
        heartbeat_interval_ms=SESSION_MS // 3,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await zombie.start()
    try:
        await eventually(lambda: _holds(zombie), timeout=30)
        stop = asyncio.Event()
        sampler = asyncio.create_task(watched.watch_readiness(stop))
        try:
            await watched.send(*range(9, 21))  # twelve keys: some land on the zombie's partitions
            await eventually(lambda: _counted(watched, "orphaned"), timeout=60)
            # The count comes first in the recovery; readiness goes false with it and stays so until the successor
            # holds partitions (seconds): keep sampling until it is seen, not only until the count.
            await eventually(lambda: watched.unready_seen, timeout=30)
        finally:
            stop.set()
            await sampler
        assert watched.unready_seen
    finally:
        await zombie.stop()  # leaves the group: its partitions go to the watched member

    async def all_handled() -> bool:
        return await watched.effects() == list(range(9, 21))

    await eventually(all_handled, timeout=60)
    await eventually(lambda: _ready(watched), timeout=30)


async def _holds(consumer: AIOKafkaConsumer) -> bool:
    return bool(consumer.assignment())


async def _counted(watched: Watched, reason: str) -> bool:
    return watched.recoveries(reason) >= 1
