"""Outbox relay against real Postgres and the real broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict

import pytest
from aiokafka.errors import MessageSizeTooLargeError
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from mentorship.cli import app as cli_app
from shared.bus import ensure_topics, new_producer
from shared.envelope import sequence_text
from shared.events.profiles import FieldChange, MentorCapacityChanged, ProfileUpdated
from shared.eventstore import EventStore
from shared.outbox import OutboxRelay, drop_parked, outbox_backlog, parked_events, requeue_all, retry_parked
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
        await eventually(lambda: relay.stats.published == 30)
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


async def test_a_commit_wakes_the_relay_without_its_poll(pool, fresh_dsn, producer, topic, broker) -> None:
    """The outbox's trigger notifies at commit: a relay whose fallback poll would come only in an hour publishes
    each event committed after it went idle (one round per commit)."""
    store = EventStore("profiles")
    relay = relay_for(fresh_dsn, producer, topic, poll_seconds=3600)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: relay.stats.active)
        for i in range(3):
            rounds = relay.stats.batches
            async with pool.acquire() as conn, conn.transaction():
                await store.append(conn, "woken", i, [change("woken", i)])
            await eventually(lambda n=i + 1: relay.stats.published == n)
            assert relay.stats.batches == rounds + 1
    finally:
        stop.set()
        await running
    records = await consume_all(broker.bootstrap, topic, expected=3)
    assert [json.loads(r.value)["sequence"] for r in records] == [sequence_text(n) for n in (1, 2, 3)]


class HeldAcknowledgements:
    """The real producer and broker; the broker's acknowledgements reach the relay only once released (a broker
    slow to acknowledge).  ``sent`` counts what the relay handed to the producer."""

    def __init__(self, producer) -> None:
        self.producer, self.sent, self.release = producer, 0, asyncio.Event()

    async def send(self, topic, **record):
        ack = await self.producer.send(topic, **record)
        self.sent += 1

        async def held():
            await self.release.wait()
            return await ack

        return asyncio.ensure_future(held())


async def test_a_commit_while_a_round_waits_for_acknowledgements_is_sent_at_once(
    pool, fresh_dsn, producer, topic, broker
) -> None:
    """The relay does not make a new event wait for the previous round's acknowledgements; rows are still forgotten
    only once acknowledged, and an aggregate's events stay in order."""
    store = EventStore("profiles")
    held = HeldAcknowledgements(producer)
    relay = relay_for(fresh_dsn, held, topic, poll_seconds=3600)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: relay.stats.active)
        for i in range(2):
            async with pool.acquire() as conn, conn.transaction():
                await store.append(conn, "held", i, [change("held", i)])
            await eventually(lambda n=i + 1: held.sent == n)  # the second before the first is acknowledged
        async with pool.acquire() as conn:
            assert await outbox_backlog(conn) == 2 and relay.stats.published == 0
        held.release.set()
        await eventually(lambda: relay.stats.published == 2)
        async with pool.acquire() as conn:
            assert await outbox_backlog(conn) == 0
    finally:
        held.release.set()
        stop.set()
        await running
    records = await consume_all(broker.bootstrap, topic, expected=2)
    assert [json.loads(r.value)["sequence"] for r in records] == [sequence_text(n) for n in (1, 2)]


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
    await eventually(lambda: first.stats.active)
    second_task = asyncio.create_task(second.run(stop_second))

    for i in range(5):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, "m", i, [change("m", i)])
    await eventually(lambda: first.stats.published == 5)
    assert not second.stats.active and second.stats.published == 0

    stop_first.set()
    await first_task
    await eventually(lambda: second.stats.active, timeout=5)
    for i in range(5, 8):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, "m", i, [change("m", i)])
    await eventually(lambda: second.stats.published == 3)
    stop_second.set()
    await second_task

    records = await consume_all(broker.bootstrap, topic, expected=8)
    assert [json.loads(r.value)["sequence"] for r in records] == [sequence_text(n) for n in range(1, 9)]


async def test_requeue_all_refills_a_broker_that_lost_its_history(pool, fresh_dsn, producer, topic, broker) -> None:
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


# --- Parking: a row the broker refuses for good waits, with its aggregate's later rows, for an operator ---

BIG = 40_000  # bytes of one event's payload; the refusing limit below is LIMIT
LIMIT = 20_000


def big_update(pid: str) -> ProfileUpdated:
    return ProfileUpdated(participant_id=pid, changes=[FieldChange(field="profile.biography", old=None, new="x" * BIG)])


async def append(pool, stream: str, event) -> None:
    """Append ``event`` at the stream's end (a store that takes events of any size: past the append check)."""
    store = EventStore("profiles", max_event_bytes=10 * BIG)
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, stream, await store.stream_version(conn, stream), [event])


async def drain(relay: OutboxRelay, pool) -> None:
    async with pool.acquire() as conn:
        while await relay.publish_pending(conn):
            pass
        assert await outbox_backlog(conn) == 0


def sequences(records) -> dict[str, list[int]]:
    by_key: dict[str, list[int]] = defaultdict(list)
    for record in records:
        by_key[record.key.decode()].append(int(json.loads(record.value)["sequence"]))
    return dict(by_key)


@pytest.fixture
async def small_producer(broker):
    """A producer whose max_request_size (from max_event_bytes=LIMIT) is below the big event."""
    producer = new_producer(broker.bootstrap, max_event_bytes=LIMIT)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.mark.parametrize("refused_by", ["producer", "relay-check"])
async def test_a_refused_row_is_parked_with_its_aggregates_later_rows_while_others_flow(
    pool, fresh_dsn, producer, small_producer, topic, broker, refused_by
) -> None:
    for stream, event in [
        ("a", change("a", 1)),
        ("big", big_update("big")),
        ("b", change("b", 1)),
        ("big", change("big", 1)),
        ("a", change("a", 2)),
        ("big", change("big", 2)),
        ("b", change("b", 2)),
    ]:
        await append(pool, stream, event)
    refused_before = _sample("mentorship_outbox_parked_events_total", cause="refused")
    if refused_by == "producer":  # the broker client's limit is below the row (the MessageSizeTooLargeError)
        relay = relay_for(fresh_dsn, small_producer, topic, batch_size=3, max_event_bytes=10 * BIG)
    else:  # the relay's own check, with the same setting as the append check
        relay = relay_for(fresh_dsn, producer, topic, batch_size=3, max_event_bytes=LIMIT)
    await drain(relay, pool)

    assert await published_count(broker.bootstrap, topic, 4) == 4
    records = await consume_all(broker.bootstrap, topic, expected=4)
    assert sequences(records) == {"a": [1, 2], "b": [1, 2]}  # every other aggregate flowed, in order
    async with pool.acquire() as conn:
        parked = await parked_events(conn)
    assert [(p.stream_id, p.version) for p in parked] == [("big", 1), ("big", 2), ("big", 3)]
    expected_reason = "MessageSizeTooLargeError" if refused_by == "producer" else "over the bus's limit"
    assert expected_reason in parked[0].reason, parked[0].reason
    assert parked[0].size_bytes > BIG and parked[0].event_type == "ProfileUpdated"
    assert all("behind a parked event" in p.reason for p in parked[1:])
    assert relay.stats.parked == 3
    assert _sample("mentorship_outbox_parked_events_total", cause="refused") == refused_before + 1

    await append(pool, "big", change("big", 3))  # a later event of the parked aggregate waits behind it too
    await append(pool, "a", change("a", 3))
    await drain(relay, pool)
    async with pool.acquire() as conn:
        assert [p.version for p in await parked_events(conn, "big")] == [1, 2, 3, 4]
    assert await published_count(broker.bootstrap, topic, 5) == 5  # a's third, nothing of big

    # The operator raises the limit, then retries: the aggregate's events go out, in order.
    async with pool.acquire() as conn:
        assert await retry_parked(conn, "big") == 4
        assert await parked_events(conn) == []
    await drain(relay_for(fresh_dsn, producer, topic, batch_size=3, max_event_bytes=10 * BIG), pool)
    records = await consume_all(broker.bootstrap, topic, expected=9)
    assert await published_count(broker.bootstrap, topic, 9) == 9
    assert sequences(records) == {"a": [1, 2, 3], "b": [1, 2], "big": [1, 2, 3, 4]}


async def test_dropping_gives_up_publishing_but_keeps_the_events(pool, fresh_dsn, producer, topic, broker) -> None:
    await append(pool, "big", big_update("big"))
    await append(pool, "big", change("big", 1))
    await drain(relay_for(fresh_dsn, producer, topic, max_event_bytes=LIMIT), pool)
    async with pool.acquire() as conn:
        assert len(await parked_events(conn)) == 2
        assert await requeue_all(conn) == 0  # republishing leaves parked events parked
        assert await drop_parked(conn, "big") == 2
        assert await drop_parked(conn, "big") == 0
        assert await parked_events(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = 'big'") == 2  # still stored

    await append(pool, "big", change("big", 2))  # nothing parked any more: the aggregate flows again
    await drain(relay_for(fresh_dsn, producer, topic, max_event_bytes=LIMIT), pool)
    assert sequences(await consume_all(broker.bootstrap, topic, expected=1)) == {"big": [3]}
    assert await published_count(broker.bootstrap, topic, 1) == 1


async def test_the_running_relay_parks_and_keeps_publishing(pool, fresh_dsn, producer, topic, broker) -> None:
    """The pipelined loop: a refused row in one batch, its aggregate's rows in the next ones."""
    relay = relay_for(fresh_dsn, producer, topic, batch_size=2, max_event_bytes=LIMIT)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await append(pool, "big", big_update("big"))
        for i in range(4):
            await append(pool, "a", change("a", i + 1))
            await append(pool, "big", change("big", i + 1))
        await eventually(lambda: relay.stats.published == 4 and relay.stats.parked == 5, timeout=10)
    finally:
        stop.set()
        await running
    assert sequences(await consume_all(broker.bootstrap, topic, expected=4)) == {"a": [1, 2, 3, 4]}
    assert await published_count(broker.bootstrap, topic, 4) == 4
    async with pool.acquire() as conn:
        assert [p.version for p in await parked_events(conn)] == [1, 2, 3, 4, 5]
        assert await outbox_backlog(conn) == 0
    assert _sample("mentorship_outbox_parked", cause=None) >= 5


async def published_count(bootstrap: str, topic: str, expected: int) -> int:
    """How many records the topic holds, read from the beginning until one more than ``expected`` came
    or nothing more did for a moment (every send was acknowledged before, so nothing is on its way)."""
    return len(await consume_all(bootstrap, topic, expected=expected + 1, timeout=1.5))


def _sample(name: str, cause: str | None) -> float:
    labels = {"service": "profiles"} | ({"cause": cause} if cause else {})
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- The operator's commands: mentorship outbox parked|retry|drop on a service's database ---


async def outbox_cli(*args: str) -> tuple[int, str]:
    """``mentorship outbox ARGS`` (the command's own code, in a thread: it runs its own event loop)."""
    result = await asyncio.to_thread(CliRunner().invoke, cli_app, ["outbox", *args], env={"COLUMNS": "200"})
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, " ".join(result.output.replace("│", " ").split())


async def test_the_outbox_commands_list_retry_and_drop_parked_events(
    pool, fresh_dsn, postgres, producer, topic, broker
) -> None:
    await append(pool, "mentee-7", big_update("mentee-7"))
    await append(pool, "mentee-7", change("mentee-7", 1))
    await append(pool, "mentor-2", change("mentor-2", 1))
    relay = relay_for(fresh_dsn, producer, topic, max_event_bytes=LIMIT)
    await drain(relay, pool)

    code, text = await outbox_cli("parked", "--dsn", fresh_dsn)
    assert code == 0 and "2 parked events in 1 aggregate" in text, text
    size = await pool.fetchval("SELECT size_bytes FROM outbox_parked WHERE stream_id = 'mentee-7' ORDER BY position")
    assert size > BIG  # the event as published: its biography sealed (shared.sealing)
    assert f"mentee-7 1 ProfileUpdated {size:,}" in text and "over the bus's limit" in text, text
    assert "mentor-2" not in text
    code, text = await outbox_cli("parked", "--dsn", fresh_dsn, "--aggregate", "mentor-2")
    assert code == 0 and "no parked events for aggregate 'mentor-2'" in text, text

    code, text = await outbox_cli("retry", "mentee-7", "--dsn", fresh_dsn)
    assert code == 0 and "2 parked events of aggregate 'mentee-7' queued for publishing again" in text, text
    await drain(relay_for(fresh_dsn, producer, topic, max_event_bytes=10 * BIG), pool)  # the limit was raised
    assert sequences(await consume_all(broker.bootstrap, topic, expected=3)) == {"mentor-2": [1], "mentee-7": [1, 2]}

    await append(pool, "mentee-8", big_update("mentee-8"))
    await drain(relay, pool)
    code, text = await outbox_cli("drop", "--all", "--yes", "--dsn", fresh_dsn)
    assert code == 0 and "1 parked events of every aggregate dropped" in text, text
    code, text = await outbox_cli("parked", "--dsn", fresh_dsn)
    assert code == 0 and "no parked events" in text
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = 'mentee-8'") == 1

    # Bad input: a message and a non-zero exit, never a traceback; nothing changed.
    code, text = await outbox_cli("retry", "nobody", "--dsn", fresh_dsn)
    assert code == 1 and "no parked events of aggregate 'nobody'" in text, text
    code, text = await outbox_cli("drop", "--dsn", fresh_dsn, "--yes")
    assert code == 2 and "name one AGGREGATE, or --all" in text, text
    code, text = await outbox_cli("parked", "--dsn", "postgresql://ops:hunter2@127.0.0.1:1/profiles")
    assert code == 1 and "cannot reach the database" in text and "hunter2" not in text, text
    bare = f"t_{uuid.uuid4().hex[:12]}"
    try:
        code, text = await outbox_cli("parked", "--dsn", postgres.create_database(bare))
        assert code == 1 and "has no outbox_parked table: not a publishing service's database" in text, text
    finally:
        postgres.drop_database(bare)


class RefusingBroker:
    """The real producer, except that the broker's answer is a refusal for messages over ``limit`` bytes
    (Kafka's ``MessageSizeTooLargeError`` for a topic whose ``max.message.bytes`` is below them; Tansu
    does not enforce that config) and, once, for ``neighbour``: a refused producer batch fails its other
    rows too."""

    def __init__(self, producer, limit: int, neighbour: tuple[bytes, int]) -> None:
        self.producer, self.limit, self.neighbour = producer, limit, neighbour

    async def send(self, topic, value, key, headers):
        if len(value) > self.limit or (key, int(json.loads(value)["sequence"])) == self.neighbour:
            if len(value) <= self.limit:
                self.neighbour = (b"", 0)  # refused once only
            refused = asyncio.get_running_loop().create_future()
            refused.set_exception(MessageSizeTooLargeError())
            return refused
        return await self.producer.send(topic, value=value, key=key, headers=headers)


async def test_a_refusal_in_the_brokers_answer_parks_only_the_refused_row(
    pool, fresh_dsn, producer, topic, broker
) -> None:
    for stream, event in [
        ("a", change("a", 1)),
        ("big", big_update("big")),
        ("a", change("a", 2)),  # in the refused batch: sent again alone, published
        ("big", change("big", 1)),
        ("c", change("c", 1)),
    ]:
        await append(pool, stream, event)
    refusing = RefusingBroker(producer, LIMIT, neighbour=(b"a", 2))
    relay = relay_for(fresh_dsn, refusing, topic, batch_size=3, max_event_bytes=10 * BIG)
    await drain(relay, pool)

    assert await published_count(broker.bootstrap, topic, 3) == 3
    assert sequences(await consume_all(broker.bootstrap, topic, expected=3)) == {"a": [1, 2], "c": [1]}
    async with pool.acquire() as conn:
        parked = await parked_events(conn)
    assert [(p.stream_id, p.version) for p in parked] == [("big", 1), ("big", 2)]
    assert "refused by the broker" in parked[0].reason and "MessageSizeTooLargeError" in parked[0].reason
