"""``EventStore.envelope_bytes`` (the relay's message, in one encoder call) against the envelope head it replaced."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.envelope import Envelope
from shared.eventstore import EventStore, _with_data

WHEN = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC)
ODD_STREAMS = ["p1", 'quote " and \\ back', "line\nbreak\ttab\x01", "Théo \u2028 😀", ""]


def row(stream_id: str, when: datetime, causation: uuid.UUID | None, version: int = 3) -> dict:
    return {
        "event_id": uuid.uuid4(),
        "stream_id": stream_id,
        "version": version,
        "event_type": "ProfileUpdated",
        "schema_version": 2,
        "occurred_at": when,
        "correlation_id": uuid.uuid4(),
        "causation_id": causation,
    }


def expected(store: EventStore, r: dict, payload: str) -> bytes:
    head = store._head(
        r["event_id"], r["stream_id"], r["version"], r["event_type"], r["schema_version"], r["occurred_at"],
        r["correlation_id"], r["causation_id"],
    )  # fmt: skip
    return _with_data(head, payload)


@pytest.mark.parametrize("stream_id", ODD_STREAMS)
def test_envelope_bytes_are_the_head_with_the_payload_spliced_in(stream_id: str) -> None:
    store = EventStore("profiles", codec=None)
    payload = '{"changes": [{"new": "Théo \\"x\\"", "field": "name"}], "n": 1.5e300}'
    times = [WHEN, WHEN.astimezone(timezone(timedelta(hours=-5))), WHEN + timedelta(microseconds=1), WHEN, WHEN]
    for i, when in enumerate(times):  # the same instant in another zone, a different one, and back
        r = row(stream_id, when, uuid.uuid4() if i % 2 else None, version=i + 1)
        value = store.envelope_bytes(r, payload)
        assert value == expected(store, r, payload)
        envelope = Envelope.from_bytes(value)
        assert (envelope.time, envelope.subject, envelope.sequence) == (when, stream_id, i + 1)
        assert json.loads(value)["data"] == json.loads(payload)
