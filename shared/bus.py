"""Topic names, producer and topic set-up shared by every service.

One topic per publishing service (``<service>.events``), the institution's HR
feed (``hr.events``) and one dead-letter topic per consumer group.  Messages
are CloudEvents in structured JSON mode, keyed by subject (aggregate id) so
each aggregate's events stay in order on one partition.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from shared.envelope import CONTENT_TYPE

SERVICES = ("profiles", "matching", "relationships", "notifications", "analytics")
PUBLISHING_SERVICES = ("profiles", "matching", "relationships", "notifications")
HR_TOPIC = "hr.events"
RETAIN_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}


def topic_for(service: str) -> str:
    return f"{service}.events"


def dead_letter_topic(consumer_group: str) -> str:
    return f"{consumer_group}.dlq"


def all_event_topics() -> list[str]:
    return [topic_for(s) for s in PUBLISHING_SERVICES] + [HR_TOPIC]


def message_headers(event_type: str, event_id: object) -> list[tuple[str, bytes]]:
    """Structured mode (the Kafka binding's ``content-type: application/cloudevents+json``), with the type
    and id repeated for routing without parsing the value.  Not ``ce_type``/``ce_id``: those would read as
    binary mode to a consumer that guesses the mode from ``ce_`` headers (the CloudEvents SDK's
    ``from_kafka``); records published before carry them, see the README."""
    return [
        ("content-type", CONTENT_TYPE.encode()),
        ("event_type", event_type.encode()),
        ("event_id", str(event_id).encode()),
    ]


def new_producer(bootstrap: str, **overrides: object) -> AIOKafkaProducer:
    """A producer that waits for all replicas; idempotence off because Tansu lacks it."""
    options: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 5,
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
) -> None:
    """Create missing topics (retention forever by default); existing ones are left as they are."""
    configs = RETAIN_FOREVER if configs is None else configs
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
