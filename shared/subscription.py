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


def subscribe(
    broker: KafkaBroker, consumer: IdempotentConsumer, topics: list[str], *, session_timeout_ms: int = 10_000
) -> None:
    """Tansu admits a joining member only after about half the session timeout, so tests use a short one."""
    @broker.subscriber(
        *topics,
        group_id=consumer.group,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(session_timeout_ms // 3, 100),
    )
    async def on_message(msg: KafkaMessage) -> None:
        record = msg.raw_message
        await consumer.process(
            Delivery(
                value=record.value,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                headers=tuple(record.headers),
            )
        )
        await msg.ack()
        _record_lag(consumer.group, msg, record)


def _record_lag(group: str, msg: KafkaMessage, record: ConsumerRecord) -> None:
    highwater = msg.consumer.highwater(TopicPartition(record.topic, record.partition))
    if highwater is not None:
        consumer_lag.labels(group, record.topic, str(record.partition)).set(max(highwater - record.offset - 1, 0))
