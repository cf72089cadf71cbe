"""The event store with the shared codec on real Postgres: every personal field of the catalog sealed at rest,
opened as appended while the person's key exists, placeholders once it is shredded."""

from __future__ import annotations

import pytest

from shared.db import migrate, shared_migrations
from shared.events import decode, event_class
from shared.eventstore import EventStore
from shared.sealing import Sealing
from tests.unit.test_event_catalog import VALID
from tests.unit.test_sealing import PERSONAL, _with_markers

STREAM_STARTERS = {"matching": "RequestRanked", "relationships": "RelationshipStarted"}
"""An event that names its stream's data subjects, for the events that name nobody themselves."""


@pytest.fixture
async def store(pool) -> EventStore:
    await migrate(pool, shared_migrations())
    return EventStore("tests")


@pytest.mark.parametrize("cls", PERSONAL, ids=lambda cls: cls.type_name())
async def test_each_personal_event_is_sealed_at_rest_and_unreadable_once_its_subjects_key_is_gone(
    cls, store, pool
) -> None:
    type_name, stream = cls.type_name(), f"stream-{cls.type_name()}"
    data, markers = _with_markers(type_name)
    events = [cls.model_validate(data)]
    data = events[0].model_dump(mode="json")  # with its defaults, as appended
    if not cls.data_subjects:  # about the people its stream's first event names
        starter = STREAM_STARTERS[cls.owner]
        events.insert(0, event_class(starter).model_validate(VALID[starter]))
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, stream, 0, events)

    stored = [r["data"] for r in await pool.fetch("SELECT data::text AS data FROM events WHERE stream_id = $1", stream)]
    assert stored and not [m for m in markers if any(m in text for text in stored)]
    async with pool.acquire() as conn:
        [*_, appended] = await store.read_stream(conn, stream)
    assert appended.envelope.data == data

    codec = Sealing()
    async with pool.acquire() as conn:
        people = await codec.subjects(conn, stream, type_name, data)
        assert people and stream not in people  # a person's key, not the stream's
        for person in people[:1]:  # erasing any one of them is enough
            assert await codec.shred(conn, person)
        [*_, erased] = await store.read_stream(conn, stream)
    assert not [m for m in markers if m in str(erased.envelope.data)]
    decode(type_name, erased.envelope.data, cls.schema_version)  # aggregates still rebuild
