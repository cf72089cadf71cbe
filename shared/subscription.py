"""Wires an ``IdempotentConsumer`` to topics through a FastStream subscriber.

FastStream's Kafka default (ack first, auto-commit) is at-most-once; here the
acknowledgement is manual and happens only after ``process`` has committed the
handler's transaction or dead-lettered the message.
"""

from __future__ import annotations

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from shared.inbox import Delivery, IdempotentConsumer


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
