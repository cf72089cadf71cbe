"""A fetched batch prepared for every projection: decoded, cut, its ids once each (no I/O)."""

from __future__ import annotations

import pickle
from datetime import date

import pytest

from services.analytics.projecting import batches
from services.analytics.projecting.projections import ALL
from tests.unit.analytics.events import DAY, T0, envelope, lagging, meeting

pytestmark = pytest.mark.unit


def raw(event, **fields) -> bytes:
    return envelope(event, **fields).to_bytes()


def test_a_batch_is_decoded_cut_and_prepared_for_every_projection() -> None:
    first, later = raw(meeting("rel-1", "x1", date(2026, 1, 6)), at=T0), raw(lagging("rel-1"), at=T0 + 9 * DAY)
    records = [(("relationships.events", 0), [first, b"not an event", later], 3), (("hr.events", 1), [first], 8)]
    batch = batches.prepare_batch(records, as_of=T0 + DAY)
    assert (batch.read, batch.skipped_invalid, batch.skipped_after_cut, batch.count) == (4, 1, 1, 2)
    assert batch.next_offsets == {("relationships.events", 0): 3, ("hr.events", 1): 8}
    assert batch.unique_ids == 1 and batch.ids() == [e.id for e in batch.events][:1]  # a copy counts once
    assert len(batch.prepared) == len(ALL)


def test_a_batch_prepared_in_a_worker_process_travels_without_its_events() -> None:
    records = [(("relationships.events", 0), [raw(meeting("rel-1", "x1", date(2026, 1, 6)))], 1)]
    batch = pickle.loads(pickle.dumps(batches.prepare_elsewhere(records, None)))
    assert batch.events is None and batch.records == []
    batch.records = records  # the projector keeps them, for the rare batch with a republished copy
    assert [e.type for e in batch.decoded_events(None)] == ["MeetingLogged"]


def test_a_batch_ids_are_each_once_in_the_key_order() -> None:
    """In ``projected_events``' key order (a uuid compares as its bytes), whatever the log order."""
    events = [raw(meeting("rel-1", f"x{i}", date(2026, 1, 6)), at=T0) for i in range(20)]
    batch = batches.prepare_batch([(("relationships.events", 0), [*events, events[3]], 21)], None)
    ids = [e.id for e in batch.events]
    assert batch.count == 21 and batch.unique_ids == 20
    assert batch.ids() == sorted(set(ids), key=lambda i: i.bytes)
    assert batch.ids() != ids[:20]  # the log order is not the key order (twenty random ids)
