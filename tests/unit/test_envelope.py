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


def test_sequence_travels_as_a_string_that_sorts() -> None:
    """The CloudEvents Sequence extension is a string compared lexicographically: 10 digits, zero-padded."""
    versions = [1, 2, 9, 10, 11, 100, 2_147_483_647]
    written = [json.loads(Envelope.model_validate(sample(sequence=v)).to_bytes())["sequence"] for v in versions]
    assert written[:4] == ["0000000001", "0000000002", "0000000009", "0000000010"]
    assert sorted(written) == written
    assert sorted(str(v) for v in versions) != [str(v) for v in versions]  # plain decimal would not sort


@pytest.mark.parametrize("wire", [12, "0000000012", "12"])
def test_both_sequence_forms_are_read_by_both_readers(wire) -> None:
    """Events already on the topics carry the integer; both readers give the version as an int."""
    raw = json.dumps(sample(sequence=wire)).encode()
    assert Envelope.from_bytes(raw).sequence == 12
    assert read_envelope(raw).sequence == 12
    assert json.loads(Envelope.from_bytes(raw).to_bytes())["sequence"] == "0000000012"


@pytest.mark.parametrize("wire", ["0000000000", "", "1e3", "-1", " 12", "12\n", "\uff11\uff12", True, 1.5, None])
def test_a_sequence_in_neither_form_is_rejected(wire) -> None:
    raw = json.dumps(sample(sequence=wire)).encode()
    with pytest.raises(ValidationError):
        Envelope.from_bytes(raw)
    with pytest.raises(InvalidEnvelope):
        read_envelope(raw)
