"""Reading the platform's Kafka records with the CloudEvents SDK (PyPI ``cloudevents``), through each entry
point a consumer may pick: the mode-guessing ``from_kafka_event``, ``from_structured_event``, and the
older ``cloudevents.v1.kafka.from_structured``.  Records are structured mode (``content-type:
application/cloudevents+json``) and carry no ``ce_`` header, so the guess lands on structured mode."""

from __future__ import annotations

from typing import Any

from aiokafka.structs import ConsumerRecord
from cloudevents.core.bindings import kafka
from cloudevents.v1.kafka import KafkaMessage as V1KafkaMessage
from cloudevents.v1.kafka import from_structured as v1_from_structured

from shared.envelope import CONTENT_TYPE, SEQUENCE_DIGITS

EXTENSIONS = ("correlationid", "sequence", "schemaversion")


def read(record: ConsumerRecord) -> dict[str, Any]:
    """The record as the SDK sees it; every entry point must agree with the others."""
    headers = {name: value for name, value in record.headers}
    assert headers["content-type"] == CONTENT_TYPE.encode()
    assert not [name for name in headers if name.lower().startswith("ce_")], headers
    message = kafka.KafkaMessage(headers=headers, key=record.key, value=record.value)
    guessed = kafka.from_kafka_event(message)
    structured = kafka.from_structured_event(message)
    legacy = v1_from_structured(V1KafkaMessage(headers=headers, key=record.key, value=record.value))
    seen = {
        "id": guessed.get_id(),
        "type": guessed.get_type(),
        "source": guessed.get_source(),
        "subject": guessed.get_subject(),
        "specversion": guessed.get_specversion(),
        "data": guessed.get_data(),
        **{name: guessed.get_extension(name) for name in EXTENSIONS},
    }
    assert {**seen, "data": structured.get_data()} == {
        "id": structured.get_id(),
        "type": structured.get_type(),
        "source": structured.get_source(),
        "subject": structured.get_subject(),
        "specversion": structured.get_specversion(),
        "data": structured.get_data(),
        **{name: structured.get_extension(name) for name in EXTENSIONS},
    }
    assert (legacy["id"], legacy["type"], legacy["sequence"], legacy.data) == (
        seen["id"],
        seen["type"],
        seen["sequence"],
        seen["data"],
    )
    assert isinstance(seen["sequence"], str) and len(seen["sequence"]) == SEQUENCE_DIGITS and seen["sequence"].isdigit()
    assert record.key.decode() == seen["subject"]
    return seen
