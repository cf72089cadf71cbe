"""CloudEvents envelope: required attributes, round trip, tolerance of newer attributes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.envelope import Envelope, InvalidEnvelope, read_envelope

pytestmark = pytest.mark.unit


def sample(**overrides) -> dict:
    attributes = {
        "id": str(uuid.uuid4()),
        "source": "/services/profiles",
        "type": "MentorRegistered",
        "specversion": "1.0",
        "time": datetime(2026, 3, 1, tzinfo=UTC).isoformat(),
        "subject": "mentor-1",
        "datacontenttype": "application/json",
        "correlationid": str(uuid.uuid4()),
        "causationid": None,
        "sequence": 1,
        "schemaversion": 1,
        "data": {"participant_id": "mentor-1"},
    }
    attributes.update(overrides)
    return attributes


def test_round_trip() -> None:
    envelope = Envelope.model_validate(sample())
    assert Envelope.from_bytes(envelope.to_bytes()) == envelope
    assert json.loads(envelope.to_bytes())["specversion"] == "1.0"


def test_unknown_newer_attributes_are_ignored() -> None:
    envelope = Envelope.from_bytes(json.dumps(sample(traceparent="00-abc", partitionkey="x")).encode())
    assert envelope.subject == "mentor-1"


@pytest.mark.parametrize(
    "overrides",
    [{"specversion": "0.3"}, {"sequence": 0}, {"id": "not-a-uuid"}, {"schemaversion": 0}, {"time": "yesterday"}],
)
def test_invalid_attributes_are_rejected(overrides: dict) -> None:
    with pytest.raises(ValidationError):
        Envelope.model_validate(sample(**overrides))


def test_missing_required_attribute_is_rejected() -> None:
    attributes = sample()
    del attributes["subject"]
    with pytest.raises(ValidationError, match="subject"):
        Envelope.model_validate(attributes)


def test_the_bulk_reader_agrees_with_the_model() -> None:
    """``read_envelope`` (msgspec, used by the analytics projector) reads what ``Envelope`` reads."""
    raw = json.dumps(sample(traceparent="00-abc", causationid=str(uuid.uuid4()))).encode()
    model, record = Envelope.from_bytes(raw), read_envelope(raw)
    for name in Envelope.model_fields:
        assert getattr(record, name) == getattr(model, name), name
    assert record.time.tzinfo is not None


@pytest.mark.parametrize(
    "overrides",
    [
        {"specversion": "0.3"},
        {"sequence": 0},
        {"id": "not-a-uuid"},
        {"schemaversion": 0},
        {"time": "yesterday"},
        {"data": ["not", "an", "object"]},
        {"subject": None},
    ],
)
def test_the_bulk_reader_rejects_what_the_model_rejects(overrides: dict) -> None:
    raw = json.dumps(sample(**overrides)).encode()
    with pytest.raises(ValidationError):
        Envelope.from_bytes(raw)
    with pytest.raises(InvalidEnvelope):
        read_envelope(raw)


def test_the_bulk_reader_rejects_bytes_that_are_not_json() -> None:
    with pytest.raises(InvalidEnvelope):
        read_envelope(b"\xff not json")
