"""Wires an ``IdempotentConsumer`` to topics through a FastStream subscriber.

FastStream's Kafka default (ack first, auto-commit) is at-most-once; here the
acknowledgement is manual and happens only after ``process`` has committed the
handler's transaction or dead-lettered the message.

``subscribe`` returns a ``Subscription``: the subscriber, what its handler is doing (``Progress``) and
``restart``, which the consumer watchdog (``shared.watchdog``) uses to make a stuck consumer leave its
group and join again as a new member.

Offsets are committed by ``Commits``, at most once per ``commit_interval_ms`` and never before the effects of
the records they pass: always before the group takes partitions away (the rebalance listener), before a
restart and when the subscription is closed; when the consumer falls idle, within the interval.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from shared.inbox import Delivery, IdempotentConsumer
from shared.logging import get_logger
from shared.metrics import consumer_lag
from shared.settings import DEFAULT_COMMIT_INTERVAL_MS

log = get_logger(__name__)


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


class Commits(ConsumerRebalanceListener):
    """The offsets after the handled records, committed at most every ``interval`` seconds.

    A commit is one request to the broker, which stores each offset: at the load bench's rates a batch is one or
    two records, so one commit per batch was one request per record (``bench/subscription.py`` at 20 records/s:
    consumer 0.2 ms and broker 0.25 ms CPU per commit).  ``note`` keeps the offsets of a batch whose effects
    are committed; the first note after a quiet interval is committed at once (in a task of its own: the next
    batch does not wait for it), later ones gather until ``interval`` has passed since the last commit.
    Redelivery after a crash is at most an interval's records, which the inbox turns into duplicates.

    As the group's rebalance listener it commits what it holds of the partitions being taken away before they
    go (aiokafka calls it before rejoining), and forgets them: a new owner starts from there.  ``flush``
    commits everything held (a restart, closing).  Only the partitions that had records are committed
    (FastStream's ``ack`` committed every assigned partition's position, most of them unchanged:
    ``bench/subscription.py``, the broker's CPU per record 2.31 -> 2.06 ms), and only those still assigned: a
    partition revoked meanwhile is left to its new owner.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.pending: dict[TopicPartition, int] = {}
        self.kafka: AIOKafkaConsumer | None = None
        self.last_commit = float("-inf")
        self._later: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one commit at a time: offsets go to the broker in the order noted

    def note(self, kafka: AIOKafkaConsumer, last: Iterable[ConsumerRecord]) -> None:
        """The records handled (``last``: the last one of each partition); committed now or within ``interval``."""
        if kafka is not self.kafka:  # a new consumer (after a restart): nothing held belongs to it
            self.pending.clear()
            self.kafka = kafka
        for record in last:
            self.pending[TopicPartition(record.topic, record.partition)] = record.offset + 1
        if self._later is None:
            delay = max(self.last_commit + self.interval - time.monotonic(), 0.0)
            self._later = asyncio.create_task(self._commit_after(delay), name="offset-commits")

    async def _commit_after(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        self._later = None  # what is noted from here on is committed by the next task
        await self.flush()

    async def flush(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        """Commits what is held (of ``partitions`` only, if given), of the partitions the consumer still holds.

        A commit the broker refuses (the group moved on: the partitions may be another member's now) is logged
        and its offsets dropped: their records are delivered again to whoever holds the partitions next, and the
        inbox makes them duplicates.  A broker that does not answer is waited for (aiokafka retries).
        """
        async with self._lock:
            kafka = self.kafka
            if kafka is None or not self.pending:
                return
            wanted = self.pending.keys() if partitions is None else set(partitions) & self.pending.keys()
            assigned = kafka.assignment()
            offsets = {tp: self.pending.pop(tp) for tp in list(wanted)}
            offsets = {tp: offset for tp, offset in offsets.items() if tp in assigned}
            if not offsets:
                return
            self.last_commit = time.monotonic()
            try:
                await kafka.commit(offsets)
            except KafkaError as exc:
                log.warning("offset commit failed; its records will come again", error=repr(exc), offsets=len(offsets))

    def cancel(self) -> None:
        """Stops a commit waiting for its interval (the consumer is going; ``flush`` first to keep the offsets)."""
        if self._later is not None:
            self._later.cancel()
            self._later = None

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.flush(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


@dataclass
class Subscription:
    subscriber: object  # FastStream's Kafka subscriber (start, stop, consumer)
    group: str
    topics: list[str]
    progress: Progress
    commits: Commits = field(default_factory=lambda: Commits(DEFAULT_COMMIT_INTERVAL_MS / 1000))

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
            await self.commits.flush()
            self.commits.cancel()
            await self.subscriber.stop()
        finally:
            self.progress.paused = False
        self.progress.last_record = time.monotonic()
        await self.subscriber.start()

    async def close(self) -> None:
        """Before the broker stops: no record is handled any more, and the offsets of those handled are committed.

        It does not wait for a record in hand (the service is stopping, perhaps because the database is gone):
        a batch that ends after this is not committed, and comes again to the next consumer as duplicates.
        """
        self.progress.paused = True
        await self.commits.flush()
        self.commits.cancel()


def subscribe(
    broker: KafkaBroker,
    consumer: IdempotentConsumer,
    topics: list[str],
    *,
    session_timeout_ms: int = 10_000,
    batch_size: int = 1,
    fetch_max_wait_ms: int = 500,
    commit_interval_ms: int = DEFAULT_COMMIT_INTERVAL_MS,
) -> Subscription:
    """Tansu admits a joining member only after about half the session timeout, so tests use a short one.

    ``batch_size`` > 1 takes up to that many records at once (the one waited for and whatever was fetched
    with it, ``_fetched``) into ``IdempotentConsumer.process_batch`` and commits the offsets once per batch.
    ``fetch_max_wait_ms`` bounds how long the broker may hold a fetch that found nothing new: Tansu looks
    for records again after half of it, three quarters and so on, so a record arriving at an idle consumer
    waits about half of it at most, and an idle consumer fetches that often (Kafka's default 500 ms; a
    latency-sensitive consumer sets a few tens of ms).  ``commit_interval_ms``: how often offsets are committed
    at most (``Commits``; 0: after every batch, still off the handler's path).
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
    commits = Commits(commit_interval_ms / 1000)
    subscriber = broker.subscriber(*topics, listener=commits, **options)
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
            commits.note(msg.consumer, last.values())
            for record in last.values():
                _record_lag(consumer.group, msg, record)

        return Subscription(subscriber, consumer.group, list(topics), progress, commits)

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
        commits.note(msg.consumer, [record])
        _record_lag(consumer.group, msg, record)

    return Subscription(subscriber, consumer.group, list(topics), progress, commits)


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
