"""Topic names, producer and topic set-up shared by every service.

One topic per publishing service (``<service>.events``), the institution's HR
feed (``hr.events``) and one dead-letter topic per consumer group.  Messages
are CloudEvents in structured JSON mode, keyed by subject (aggregate id) so
each aggregate's events stay in order on one partition.

Message size: one setting, ``max_event_bytes`` (``MENTORSHIP_MAX_EVENT_BYTES``), bounds an event as
published (key, envelope and headers; ``message_size``).  The event store checks it when an event
is appended; the producer's ``max_request_size`` and the topics' ``max.message.bytes`` are that plus
``MESSAGE_OVERHEAD_BYTES`` for the record batch's framing, so whatever was appended is accepted.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from shared.envelope import CONTENT_TYPE
from shared.settings import DEFAULT_MAX_EVENT_BYTES

SERVICES = ("profiles", "matching", "relationships", "notifications", "analytics")
PUBLISHING_SERVICES = ("profiles", "matching", "relationships", "notifications")
HR_TOPIC = "hr.events"
RETAIN_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
MESSAGE_OVERHEAD_BYTES = 1024
"""Room above ``max_event_bytes`` for a record batch's framing around one record (about 150 bytes)."""


def max_message_bytes(max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> int:
    """The producer's ``max_request_size`` and the topics' ``max.message.bytes`` for ``max_event_bytes``."""
    return max_event_bytes + MESSAGE_OVERHEAD_BYTES


def message_size(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> int:
    """The size ``max_event_bytes`` bounds: key, value and headers as published."""
    return len(key) + len(value) + sum(len(name.encode()) + len(data) for name, data in headers)


def topic_for(service: str) -> str:
    return f"{service}.events"


def dead_letter_topic(consumer_group: str) -> str:
    return f"{consumer_group}.dlq"


def all_event_topics() -> list[str]:
    return [topic_for(s) for s in PUBLISHING_SERVICES] + [HR_TOPIC]


def message_headers(event_type: str, event_id: object) -> list[tuple[str, bytes]]:
    return [
        ("content-type", CONTENT_TYPE.encode()),
        ("ce_type", event_type.encode()),
        ("ce_id", str(event_id).encode()),
    ]


def new_producer(
    bootstrap: str, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, **overrides: object
) -> AIOKafkaProducer:
    """A producer that waits for all replicas; idempotence off because Tansu lacks it.  It refuses
    (``MessageSizeTooLargeError``) a message over ``max_message_bytes(max_event_bytes)``."""
    options: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 5,
        "max_request_size": max_message_bytes(max_event_bytes),
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def new_broker(bootstrap: str) -> KafkaBroker:
    return KafkaBroker(bootstrap, enable_idempotence=False, logger=None)


# Kafka error codes that create_topics reports per topic (aiokafka returns them, it does not raise).
_TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(
    bootstrap: str,
    topics: list[str],
    partitions: int,
    replication: int = 1,
    configs: dict[str, str] | None = None,
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> None:
    """Create missing topics (retention forever by default, ``max.message.bytes`` from ``max_event_bytes``);
    existing ones are left as they are."""
    configs = {
        **(RETAIN_FOREVER if configs is None else configs),
        "max.message.bytes": str(max_message_bytes(max_event_bytes)),
    }
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [NewTopic(t, partitions, replication, topic_configs=dict(configs)) for t in missing]
        )
        for topic, code, *rest in response.topic_errors:
            if code not in (0, _TOPIC_ALREADY_EXISTS):  # "exists": another replica was quicker
                raise RuntimeError(f"creating topic {topic!r} failed: Kafka error {code} {rest[0] if rest else ''}")
    finally:
        await admin.close()
