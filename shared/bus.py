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

import ssl
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from shared.envelope import CONTENT_TYPE
from shared.settings import DEFAULT_MAX_EVENT_BYTES, BrokerSettings

SERVICES = ("profiles", "matching", "relationships", "notifications", "analytics")
PUBLISHING_SERVICES = ("profiles", "matching", "relationships", "notifications")
HR_TOPIC = "hr.events"
RETAIN_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
TRANSIENT_RETENTION_DAYS = 30
"""How long the topics the platform does not own keep a record: HR's inbound feed (its names and addresses arrive
in plain text from the HR system, which the platform cannot seal) and the dead-letter topics (which may hold a
copy of such a record). Profiles is the system of record once it has consumed a record, and the services' own
topics, whose personal fields travel sealed (``shared.sealing``), keep theirs forever."""
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


def retention_for(topic: str, days: int = TRANSIENT_RETENTION_DAYS) -> dict[str, str]:
    """A topic's retention: forever for a service's own events (replay rebuilds from them), ``days`` for the rest."""
    if topic in {topic_for(s) for s in PUBLISHING_SERVICES}:
        return RETAIN_FOREVER
    return {"retention.ms": str(days * 86_400_000), "retention.bytes": "-1"}


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


@dataclass(frozen=True)
class BrokerAccess:
    """Where the broker is and how a client proves itself to it: TLS (the CA that signed the broker's
    certificate, optionally a client certificate) and SASL/SCRAM (this service's principal).

    ``client_options`` is the one place these become client options; every producer, consumer, admin
    client and FastStream broker here is made from it. A bare bootstrap string stands for PLAINTEXT
    (the local broker of the dev stack and the tests)."""

    bootstrap: str
    security_protocol: str = "PLAINTEXT"
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_check_hostname: bool = True
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, broker: BrokerAccess | BrokerSettings | str) -> BrokerAccess:
        if isinstance(broker, BrokerAccess):
            return broker
        if isinstance(broker, str):
            return cls(broker)
        password = broker.kafka_sasl_password
        return cls(
            bootstrap=broker.kafka_bootstrap,
            security_protocol=broker.kafka_security_protocol,
            ssl_cafile=broker.kafka_ssl_cafile,
            ssl_certfile=broker.kafka_ssl_certfile,
            ssl_keyfile=broker.kafka_ssl_keyfile,
            ssl_check_hostname=broker.kafka_ssl_check_hostname,
            sasl_mechanism=broker.kafka_sasl_mechanism,
            sasl_username=broker.kafka_sasl_username,
            sasl_password=password.get_secret_value() if password is not None else None,
        )

    @classmethod
    def from_env(cls, bootstrap: str | None = None) -> BrokerAccess:
        """``MENTORSHIP_KAFKA_*`` from the environment (the tools': export, demo); ``bootstrap`` overrides."""
        access = cls.of(BrokerSettings())
        return access if bootstrap is None else cls(**{**access.__dict__, "bootstrap": bootstrap})

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """Verifies the broker's certificate (against ``ssl_cafile``, else the system's CAs) and its name."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        context.check_hostname = self.ssl_check_hostname
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def client_options(self) -> dict[str, Any]:
        """The connection options of an aiokafka producer, consumer or admin client."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap, "security_protocol": self.security_protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        return options

    def faststream_security(self) -> BaseSecurity | None:
        """The same options as FastStream's ``KafkaBroker`` takes them (it turns this back into them)."""
        if self.security_protocol == "PLAINTEXT":
            return None
        if not self.uses_sasl:
            return BaseSecurity(ssl_context=self.ssl_context())
        scram = SASLScram256 if self.sasl_mechanism == "SCRAM-SHA-256" else SASLScram512
        return scram(self.sasl_username, self.sasl_password, ssl_context=self.ssl_context(), use_ssl=self.uses_tls)


Broker = BrokerAccess | BrokerSettings | str
"""What the client factories take: the access itself, settings to build it from, or a PLAINTEXT bootstrap."""


def new_producer(
    broker: Broker, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, **overrides: object
) -> AIOKafkaProducer:
    """A producer that waits for all replicas; idempotence off because Tansu lacks it.  It refuses
    (``MessageSizeTooLargeError``) a message over ``max_message_bytes(max_event_bytes)``."""
    options: dict[str, object] = {
        **BrokerAccess.of(broker).client_options(),
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 5,
        "max_request_size": max_message_bytes(max_event_bytes),
        # A partition's records go in batches of up to one largest event's bytes, under the topics'
        # max.message.bytes with the batch's framing; aiokafka's 16 KB default sent a bulk import's events
        # about sixteen to a request (bench/hr_import.py: Tansu 0.013 -> 0.007 ms CPU per new row, the
        # relay's publishing after the CLI ended 0.028 -> 0.000).  linger_ms still bounds the wait.
        "max_batch_size": max_event_bytes,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def new_consumer(broker: Broker, *topics: str, **options: Any) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(*topics, **BrokerAccess.of(broker).client_options(), **options)


def new_admin(broker: Broker, **options: Any) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**BrokerAccess.of(broker).client_options(), **options)


def new_broker(broker: Broker) -> KafkaBroker:
    """FastStream's broker for ``shared.subscription``, without dependency injection (``apply_types``): its
    handlers take the message as their decoder hands it over (``subscription._the_message``)."""
    access = BrokerAccess.of(broker)
    return KafkaBroker(
        access.bootstrap,
        security=access.faststream_security(),
        enable_idempotence=False,
        logger=None,
        apply_types=False,
    )


# Kafka error codes that create_topics reports per topic (aiokafka returns them, it does not raise).
_TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(
    broker: Broker,
    topics: list[str],
    partitions: int,
    replication: int = 1,
    configs: dict[str, str] | None = None,
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> None:
    """Create missing topics (retention by ``retention_for`` unless ``configs`` says otherwise, ``max.message.bytes``
    from ``max_event_bytes``); existing ones are left as they are."""
    size = {"max.message.bytes": str(max_message_bytes(max_event_bytes))}

    def configs_of(topic: str) -> dict[str, str]:
        return {**(retention_for(topic) if configs is None else configs), **size}

    admin = new_admin(broker)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [NewTopic(t, partitions, replication, topic_configs=configs_of(t)) for t in missing]
        )
        for topic, code, *rest in response.topic_errors:
            if code not in (0, _TOPIC_ALREADY_EXISTS):  # "exists": another replica was quicker
                raise RuntimeError(f"creating topic {topic!r} failed: Kafka error {code} {rest[0] if rest else ''}")
    finally:
        await admin.close()
