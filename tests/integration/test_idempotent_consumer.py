"""Idempotent consumer through FastStream on the real broker and real Postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.bus import dead_letter_topic, ensure_topics, message_headers, new_broker, new_producer
from shared.envelope import Envelope
from shared.events.profiles import MentorCapacityChanged, MentorTrainingCompleted
from shared.inbox import Delivery, IdempotentConsumer, PermanentError
from shared.subscription import subscribe
from tests.helpers import consume_all, eventually

pytestmark = pytest.mark.integration


def envelope_of(event, subject: str = "m1", sequence: int = 1) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/services/profiles",
        type=event.type_name(),
        time=datetime.now(UTC),
        subject=subject,
        correlationid=uuid.uuid4(),
        sequence=sequence,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
    )


class Scenario:
    """A consumer group on its own topic, with an ``effects`` table the handlers write to."""

    def __init__(self, bootstrap: str, pool: asyncpg.Pool, topic: str, batch_size: int = 1) -> None:
        self.bootstrap, self.pool, self.topic, self.batch_size = bootstrap, pool, topic, batch_size
        self.group = f"group-{uuid.uuid4().hex[:8]}"
        self.calls: dict[int, int] = {}

    async def on_capacity(self, conn, event, envelope) -> None:
        self.calls[event.new_capacity] = self.calls.get(event.new_capacity, 0) + 1
        if event.new_capacity == 13:
            raise RuntimeError("always broken")
        if event.new_capacity == 14:
            raise PermanentError("capacity 14 is against the rules")
        if event.new_capacity == 12 and self.calls[12] < 3:
            raise RuntimeError("flaky downstream, try again")
        await conn.execute("INSERT INTO effects (event_id, value) VALUES ($1, $2)", envelope.id, event.new_capacity)

    async def effects(self) -> list[int]:
        return [r["value"] for r in await self.pool.fetch("SELECT value FROM effects ORDER BY value")]

    async def start(self):
        await self.pool.execute("CREATE TABLE effects (event_id uuid, value int)")
        await ensure_topics(self.bootstrap, [self.topic, dead_letter_topic(self.group)], partitions=1)
        self.producer = new_producer(self.bootstrap)
        await self.producer.start()
        consumer = IdempotentConsumer(
            self.pool,
            self.group,
            {"MentorCapacityChanged": self.on_capacity},
            self.producer,
            max_attempts=3,
            backoff_seconds=0.01,
        )
        self.broker = new_broker(self.bootstrap)
        subscribe(self.broker, consumer, [self.topic], session_timeout_ms=2_000, batch_size=self.batch_size)
        await self.broker.start()

    async def stop(self):
        await self.broker.stop()
        await self.producer.stop()

    async def send(self, value: bytes, key: bytes = b"m1") -> None:
        await self.producer.send_and_wait(self.topic, value=value, key=key)


@pytest.fixture(params=[1, 10], ids=["one-by-one", "batches"])
async def scenario(broker, pool, topic_name, request):
    """Every case one record at a time, and in batches (a record waited for, then what was fetched with it)."""
    scenario = Scenario(broker.bootstrap, pool, topic_name, request.param)
    await scenario.start()
    yield scenario
    await scenario.stop()


def capacity(new: int) -> Envelope:
    return envelope_of(MentorCapacityChanged(participant_id="m1", old_capacity=0, new_capacity=new))


async def test_redelivered_event_changes_nothing(scenario: Scenario) -> None:
    first = capacity(1)
    await scenario.send(first.to_bytes())
    await scenario.send(first.to_bytes())
    await scenario.send(capacity(2).to_bytes())

    await eventually(lambda: _has(scenario, [1, 2]))
    assert await scenario.effects() == [1, 2]
    assert scenario.calls == {1: 1, 2: 1}
    assert await scenario.pool.fetchval("SELECT count(*) FROM inbox WHERE consumer_group = $1", scenario.group) == 2


async def test_poison_messages_are_dead_lettered_and_the_consumer_carries_on(scenario: Scenario, broker) -> None:
    invalid_payload = capacity(1).model_copy(update={"data": {"participant_id": "m1", "new_capacity": "lots"}})
    await scenario.send(b"\x00 not json at all")
    await scenario.send(invalid_payload.to_bytes())
    await scenario.send(capacity(14).to_bytes())
    await scenario.send(capacity(3).to_bytes())

    await eventually(lambda: _has(scenario, [3]))
    dead = await consume_all(broker.bootstrap, dead_letter_topic(scenario.group), expected=3)
    reasons = [dict(r.headers)["x-dlq-reason"].decode() for r in dead]
    assert reasons == ["invalid-envelope", "invalid-payload", "rejected"]
    assert dead[0].value == b"\x00 not json at all"
    headers = dict(dead[1].headers)
    assert b"new_capacity" in headers["x-dlq-error"] and headers["x-dlq-source-topic"] == scenario.topic.encode()
    assert headers["x-dlq-source-offset"] == b"1"
    assert b"against the rules" in dict(dead[2].headers)["x-dlq-error"]


async def test_transient_failures_are_retried_then_a_hopeless_one_is_dead_lettered(scenario: Scenario, broker) -> None:
    await scenario.send(capacity(12).to_bytes())
    await scenario.send(capacity(13).to_bytes())
    await scenario.send(capacity(4).to_bytes())

    await eventually(lambda: _has(scenario, [4, 12]))
    assert scenario.calls[12] == 3  # failed twice, then succeeded
    assert scenario.calls[13] == 3  # max_attempts, then dead-lettered
    [dead] = await consume_all(broker.bootstrap, dead_letter_topic(scenario.group), expected=1)
    assert dict(dead.headers)["x-dlq-reason"] == b"handler-failed"
    assert dict(dead.headers)["x-dlq-attempts"] == b"3"


async def test_offsets_are_committed_after_handling(scenario: Scenario, broker) -> None:
    for value in (5, 6, 7):
        await scenario.send(capacity(value).to_bytes())
    await eventually(lambda: _has(scenario, [5, 6, 7]))

    partition = TopicPartition(scenario.topic, 0)

    async def committed_all() -> bool:
        reader = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=scenario.group, enable_auto_commit=False)
        await reader.start()
        try:
            return await reader.committed(partition) == 3
        finally:
            await reader.stop()

    await eventually(committed_all, timeout=10)


async def test_events_the_group_does_not_handle_are_skipped(scenario: Scenario) -> None:
    other = envelope_of(MentorTrainingCompleted(participant_id="m1", kind="handbook", completed_on="2026-02-01"))
    await scenario.send(other.to_bytes())
    await scenario.send(capacity(8).to_bytes())
    await eventually(lambda: _has(scenario, [8]))
    assert await scenario.pool.fetchval("SELECT count(*) FROM inbox") == 1


async def _has(scenario: Scenario, values: list[int]) -> bool:
    return await scenario.effects() == values


async def test_a_batch_is_opened_at_once_and_handled_in_one_transaction(pool) -> None:
    """With a batch opener, the batch's records are opened in one call (one request for their keys)."""
    await pool.execute("CREATE TABLE effects (event_id uuid, value int)")
    calls: list[int] = []

    async def open_many(envelopes):
        calls.append(len(envelopes))
        return list(envelopes)

    async def on_capacity(conn, event, envelope) -> None:
        await conn.execute("INSERT INTO effects (event_id, value) VALUES ($1, $2)", envelope.id, event.new_capacity)

    handlers = {"MentorCapacityChanged": on_capacity}
    consumer = IdempotentConsumer(pool, "batch-opened", handlers, None, open_many=open_many)
    other = envelope_of(MentorTrainingCompleted(participant_id="m1", kind="handbook", completed_on="2026-02-01"))
    records = [capacity(1), other, capacity(2), capacity(3)]
    deliveries = [Delivery(e.to_bytes(), "t", 0, offset) for offset, e in enumerate(records)]
    assert await consumer.process_batch(deliveries) == ["handled", "ignored", "handled", "handled"]
    assert calls == [3]  # the record no handler takes is not opened
    assert sorted(r["value"] for r in await pool.fetch("SELECT value FROM effects")) == [1, 2, 3]


async def test_a_record_whose_header_names_a_type_the_group_does_not_handle_is_not_parsed(pool) -> None:
    """The relay's ``event_type`` header routes a record without parsing it (``bench/consumer.py``): one of a type
    the group does not handle is ignored as it is, whatever its value; one the group handles is read as ever."""
    await pool.execute("CREATE TABLE effects (event_id uuid, value int)")

    async def on_capacity(conn, event, envelope) -> None:
        await conn.execute("INSERT INTO effects (event_id, value) VALUES ($1, $2)", envelope.id, event.new_capacity)

    consumer = IdempotentConsumer(pool, "routed", {"MentorCapacityChanged": on_capacity}, None)
    unhandled = Delivery(b"not an envelope", "t", 0, 0, headers=(("event_type", b"MentorTrainingCompleted"),))
    handled = capacity(5)
    routed = Delivery(handled.to_bytes(), "t", 0, 1, headers=tuple(message_headers(handled.type, handled.id)))
    assert await consumer.process_batch([unhandled, routed]) == ["ignored", "handled"]
    assert await consumer.process(unhandled) == "ignored"
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 1
    assert [r["value"] for r in await pool.fetch("SELECT value FROM effects")] == [5]
