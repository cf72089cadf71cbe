"""Outbox relay against real Postgres and the real broker."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import pytest

from shared.bus import ensure_topics, new_producer
from shared.envelope import sequence_text
from shared.events.profiles import MentorCapacityChanged
from shared.eventstore import EventStore
from shared.outbox import OutboxRelay, outbox_backlog
from tests.helpers import consume_all, eventually

pytestmark = pytest.mark.integration


def change(pid: str, old: int) -> MentorCapacityChanged:
    return MentorCapacityChanged(participant_id=pid, old_capacity=old, new_capacity=old + 1)


@pytest.fixture
async def producer(broker):
    producer = new_producer(broker.bootstrap)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def topic(broker, topic_name: str) -> str:
    await ensure_topics(broker.bootstrap, [topic_name], partitions=3)
    return topic_name


def relay_for(dsn: str, producer, topic: str, **options) -> OutboxRelay:
    return OutboxRelay(dsn, EventStore("profiles"), producer, topic=topic, **options)


@pytest.mark.parametrize("loop", ["rounds", "pipelined-run"])
async def test_publishes_every_event_in_order_per_aggregate(pool, fresh_dsn, producer, topic, broker, loop) -> None:
    store = EventStore("profiles")
    for i in range(10):
        for pid in ("a", "b", "c"):
            async with pool.acquire() as conn, conn.transaction():
                await store.append(conn, pid, i, [change(pid, i)])

    relay = relay_for(fresh_dsn, producer, topic, batch_size=7)
    if loop == "rounds":
        async with pool.acquire() as conn:
            while await relay.publish_pending(conn):
                pass
    else:
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop))
        await eventually(lambda: _true(relay.stats.published == 30))
        stop.set()
        await running
    async with pool.acquire() as conn:
        assert await outbox_backlog(conn) == 0

    records = await consume_all(broker.bootstrap, topic, expected=30)
    by_key: dict[bytes, list[str]] = defaultdict(list)
    partitions: dict[bytes, set[int]] = defaultdict(set)
    for record in records:
        envelope = json.loads(record.value)
        assert record.key.decode() == envelope["subject"]
        assert dict(record.headers)["event_type"] == b"MentorCapacityChanged"
        by_key[record.key].append(envelope["sequence"])
        partitions[record.key].add(record.partition)
    assert len(records) == 30
    assert all(seqs == [sequence_text(n) for n in range(1, 11)] for seqs in by_key.values()), by_key
    assert all(len(p) == 1 for p in partitions.values())  # one aggregate, one partition


async def test_late_commit_with_lower_position_is_not_skipped(pool, fresh_dsn, producer, topic, broker) -> None:
    """Transaction A takes position p, B takes p+1 and commits first; the relay runs in between."""
    store = EventStore("profiles")
    relay = relay_for(fresh_dsn, producer, topic)
    slow = await pool.acquire()
    slow_tx = slow.transaction()
    await slow_tx.start()
    try:
        [late] = await store.append(slow, "slow", 0, [change("slow", 0)])
        async with pool.acquire() as conn, conn.transaction():
            [early] = await store.append(conn, "fast", 0, [change("fast", 0)])
        async with pool.acquire() as conn:
            positions = dict(await conn.fetch("SELECT event_id, position FROM events"))
            assert positions == {early.id: positions[early.id]}  # the slow one is not visible yet
            assert await relay.publish_pending(conn) == 1
        await slow_tx.commit()
    finally:
        await pool.release(slow)

    async with pool.acquire() as conn:
        lower = await conn.fetchval("SELECT position FROM events WHERE event_id = $1", late.id)
        higher = await conn.fetchval("SELECT position FROM events WHERE event_id = $1", early.id)
        assert lower < higher  # the late transaction really holds the lower position
        assert await relay.publish_pending(conn) == 1
        assert await outbox_backlog(conn) == 0

    records = await consume_all(broker.bootstrap, topic, expected=2)
    assert sorted(json.loads(r.value)["id"] for r in records) == sorted([str(late.id), str(early.id)])


async def test_only_one_relay_publishes_and_another_takes_over(pool, fresh_dsn, producer, topic, broker) -> None:
    store = EventStore("profiles")
    first = relay_for(fresh_dsn, producer, topic, standby_poll_seconds=0.1)
    second = relay_for(fresh_dsn, producer, topic, standby_poll_seconds=0.1)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    first_task = asyncio.create_task(first.run(stop_first))
    await eventually(lambda: _true(first.stats.active))
    second_task = asyncio.create_task(second.run(stop_second))

    for i in range(5):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, "m", i, [change("m", i)])
    await eventually(lambda: _true(first.stats.published == 5))
    assert not second.stats.active and second.stats.published == 0

    stop_first.set()
    await first_task
    await eventually(lambda: _true(second.stats.active), timeout=5)
    for i in range(5, 8):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, "m", i, [change("m", i)])
    await eventually(lambda: _true(second.stats.published == 3))
    stop_second.set()
    await second_task

    records = await consume_all(broker.bootstrap, topic, expected=8)
    assert [json.loads(r.value)["sequence"] for r in records] == [sequence_text(n) for n in range(1, 9)]


async def _true(value: bool) -> bool:
    return value


async def test_requeue_all_refills_a_broker_that_lost_its_history(pool, fresh_dsn, producer, topic, broker) -> None:
    from shared.outbox import requeue_all

    store = EventStore("profiles")
    for i in range(4):
        for pid in ("a", "b"):
            async with pool.acquire() as conn, conn.transaction():
                await store.append(conn, pid, i, [change(pid, i)])
    async with pool.acquire() as conn:
        while await relay_for(fresh_dsn, producer, topic).publish_pending(conn):
            pass
        assert await outbox_backlog(conn) == 0

        empty_broker_topic = f"{topic}-after-loss"  # the same topic name on a broker that lost it
        await ensure_topics(broker.bootstrap, [empty_broker_topic], partitions=3)
        assert await requeue_all(conn) == 8
        assert await requeue_all(conn) == 0  # already queued: nothing twice
        while await relay_for(fresh_dsn, producer, empty_broker_topic).publish_pending(conn):
            pass

    original = await consume_all(broker.bootstrap, topic, expected=8)
    refilled = await consume_all(broker.bootstrap, empty_broker_topic, expected=8)
    assert sorted(r.value for r in refilled) == sorted(r.value for r in original)  # the same envelopes, same ids
    for key in (b"a", b"b"):
        assert [int(json.loads(r.value)["sequence"]) for r in refilled if r.key == key] == [1, 2, 3, 4]
