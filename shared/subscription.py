"""Wires an ``IdempotentConsumer`` to topics through a FastStream subscriber.

FastStream's Kafka default (ack first, auto-commit) is at-most-once; here the
acknowledgement is manual and happens only after ``process`` has committed the
handler's transaction or dead-lettered the message.
"""

from __future__ import annotations

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from shared.inbox import Delivery, IdempotentConsumer
from shared.metrics import consumer_lag

# A batch subscriber that found nothing waits this long, then sleeps as long again before it polls
# (FastStream's loop): the most a record arriving at an idle consumer can wait for its poll.
BATCH_WAIT_MS = 10


def subscribe(
    broker: KafkaBroker,
    consumer: IdempotentConsumer,
    topics: list[str],
    *,
    session_timeout_ms: int = 10_000,
    batch_size: int = 1,
    fetch_max_wait_ms: int = 500,
) -> None:
    """Tansu admits a joining member only after about half the session timeout, so tests use a short one.

    ``batch_size`` > 1 takes up to that many records at once (whatever has arrived; it does not wait
    to fill a batch) into ``IdempotentConsumer.process_batch`` and commits the offsets once per batch.
    ``fetch_max_wait_ms`` bounds how long the broker may hold a fetch that found nothing new: Tansu
    holds it that long even when records arrive meanwhile, so it is also the latency an idle
    consumer adds (Kafka's default 500 ms; a latency-sensitive consumer sets a few tens of ms).
    """
    options = {
        "group_id": consumer.group,
        "ack_policy": AckPolicy.MANUAL,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": session_timeout_ms,
        "heartbeat_interval_ms": max(session_timeout_ms // 3, 100),
        "fetch_max_wait_ms": fetch_max_wait_ms,
    }
    if batch_size > 1:

        @broker.subscriber(*topics, batch=True, max_records=batch_size, batch_timeout_ms=BATCH_WAIT_MS, **options)
        async def on_batch(msg: KafkaMessage) -> None:
            records = msg.raw_message
            if not records:
                return
            await consumer.process_batch([_delivery(record) for record in records])
            await msg.ack()
            last = {(r.topic, r.partition): r for r in records}
            for record in last.values():
                _record_lag(consumer.group, msg, record)

        return

    @broker.subscriber(*topics, **options)
    async def on_message(msg: KafkaMessage) -> None:
        record = msg.raw_message
        await consumer.process(_delivery(record))
        await msg.ack()
        _record_lag(consumer.group, msg, record)


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
