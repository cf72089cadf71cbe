"""Wires an ``IdempotentConsumer`` to topics through a FastStream subscriber.

FastStream's Kafka default (ack first, auto-commit) is at-most-once; here the
acknowledgement is manual and happens only after ``process`` has committed the
handler's transaction or dead-lettered the message.

``subscribe`` returns a ``Subscription``: the subscriber, what its handler is doing (``Progress``) and
``restart``, which the consumer watchdog (``shared.watchdog``) uses to make a stuck consumer leave its
group and join again as a new member.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from shared.inbox import Delivery, IdempotentConsumer
from shared.metrics import consumer_lag


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass
class Progress:
    """What the handler is doing, for the watchdog: busy with a record, when it last got one, paused."""

    last_record: float = field(default_factory=time.monotonic)
    paused: bool = False  # the consumer is being replaced: records are left unacknowledged for the next one
    idle: asyncio.Event = field(default_factory=_set_event)

    @property
    def busy(self) -> bool:
        return not self.idle.is_set()

    def took(self) -> None:
        self.idle.clear()
        self.last_record = time.monotonic()

    def done(self) -> None:
        self.idle.set()


@dataclass
class Subscription:
    subscriber: object  # FastStream's Kafka subscriber (start, stop, consumer)
    group: str
    topics: list[str]
    progress: Progress

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        """The subscriber's current aiokafka consumer (a new one after each ``restart``)."""
        return getattr(self.subscriber, "consumer", None)

    async def restart(self) -> None:
        """Leave the group and join again as a new member, losing and repeating nothing.

        The record in hand is finished first (its effect and dead letter are not cut in half); records
        fetched after it are left unacknowledged, so the next consumer starts from the last committed
        offset and the inbox turns any second delivery into a duplicate.  Stopping the subscriber stops
        its aiokafka consumer, which sends LeaveGroup; starting it builds a fresh consumer.
        """
        self.progress.paused = True
        try:
            await self.progress.idle.wait()
            await self.subscriber.stop()
        finally:
            self.progress.paused = False
        self.progress.last_record = time.monotonic()
        await self.subscriber.start()


def subscribe(
    broker: KafkaBroker,
    consumer: IdempotentConsumer,
    topics: list[str],
    *,
    session_timeout_ms: int = 10_000,
    batch_size: int = 1,
    fetch_max_wait_ms: int = 500,
) -> Subscription:
    """Tansu admits a joining member only after about half the session timeout, so tests use a short one.

    ``batch_size`` > 1 takes up to that many records at once (the one waited for and whatever was fetched
    with it, ``_fetched``) into ``IdempotentConsumer.process_batch`` and commits the offsets once per batch.
    ``fetch_max_wait_ms`` bounds how long the broker may hold a fetch that found nothing new: Tansu looks
    for records again after half of it, three quarters and so on, so a record arriving at an idle consumer
    waits about half of it at most, and an idle consumer fetches that often (Kafka's default 500 ms; a
    latency-sensitive consumer sets a few tens of ms).
    """
    options = {
        "group_id": consumer.group,
        "ack_policy": AckPolicy.MANUAL,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": session_timeout_ms,
        "heartbeat_interval_ms": max(session_timeout_ms // 3, 100),
        "fetch_max_wait_ms": fetch_max_wait_ms,
    }
    progress = Progress()
    subscriber = broker.subscriber(*topics, **options)
    if batch_size > 1:

        @subscriber(decoder=_the_message)
        async def on_batch(msg: KafkaMessage) -> None:
            if progress.paused:
                return
            progress.took()
            try:
                records = [msg.raw_message, *await _fetched(msg.consumer, batch_size - 1)]
                await consumer.process_batch([_delivery(record) for record in records])
            finally:
                progress.done()
            last = {(r.topic, r.partition): r for r in records}
            await _commit(msg.consumer, last.values())
            for record in last.values():
                _record_lag(consumer.group, msg, record)

        return Subscription(subscriber, consumer.group, list(topics), progress)

    @subscriber(decoder=_the_message)
    async def on_message(msg: KafkaMessage) -> None:
        if progress.paused:
            return
        record = msg.raw_message
        progress.took()
        try:
            await consumer.process(_delivery(record))
        finally:
            progress.done()
        await _commit(msg.consumer, [record])
        _record_lag(consumer.group, msg, record)

    return Subscription(subscriber, consumer.group, list(topics), progress)


async def _the_message(msg: KafkaMessage) -> KafkaMessage:
    """The handler's argument: the message itself, neither its body decoded nor its fields injected.

    With the broker's ``apply_types`` off (``shared.bus.new_broker``) FastStream calls a handler with what its
    decoder returns.  Injected, ``msg: KafkaMessage`` was a context field that FastDepends resolved per record in
    a task group and a worker thread (``bench/subscription.py``: 2.98 -> 2.57 ms CPU per record in the consumer
    process, alternating checkouts).
    """
    return msg


async def _fetched(kafka: AIOKafkaConsumer, most: int) -> list[ConsumerRecord]:
    """The records the consumer has already fetched after the one in hand, up to ``most``, without waiting.

    This is how a batch is formed: the subscriber waits for one record (aiokafka's ``getone`` sleeps until a
    fetch brings any), then takes whatever else that fetch, or an earlier one, brought (``getmany`` without a
    timeout only drains the fetcher's buffer; the positions it advances are committed with the batch).
    FastStream's batch subscriber polled instead (``getmany`` with a timeout, then as long a sleep when it found
    nothing): an idle consumer woke every 10 ms, and a record arriving during the sleep waited for its end
    (``bench/propagation.py`` per hop, on a busy machine: fetched → handed to the handler p50 4 ms, p99 15 ms).
    """
    batches = await kafka.getmany(timeout_ms=0, max_records=most)
    return [record for records in batches.values() for record in records]


async def _commit(kafka: AIOKafkaConsumer, last: Iterable[ConsumerRecord]) -> None:
    """Commits the offsets after the handled records (``last``: the last one of each partition), only theirs.

    FastStream's ``ack`` committed the position of every assigned partition (nine for a group reading three
    topics), most of them unchanged: the broker stored each offset again and the consumer encoded them
    (``bench/subscription.py``: the broker's CPU per record 2.31 -> 2.06 ms).  A partition revoked meanwhile is
    left to its new owner, as ``ack`` left it: it commits only what is assigned.
    """
    assigned = kafka.assignment()
    offsets = {
        tp: record.offset + 1 for record in last if (tp := TopicPartition(record.topic, record.partition)) in assigned
    }
    if offsets:
        await kafka.commit(offsets)


def _delivery(record: ConsumerRecord) -> Delivery:
    return Delivery(
        value=record.value,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        headers=tuple(record.headers),
    )


def _record_lag(group: str, msg: KafkaMessage, record: ConsumerRecord) -> None:
    highwater = msg.consumer.highwater(TopicPartition(record.topic, record.partition))
    if highwater is not None:
        consumer_lag.labels(group, record.topic, str(record.partition)).set(max(highwater - record.offset - 1, 0))
