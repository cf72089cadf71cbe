"""The event store with the shared codec on real Postgres: every personal field of the catalog sealed at rest,
opened as appended while the person's key exists, placeholders once it is shredded."""

from __future__ import annotations

import json

import pytest

from shared.db import migrate, shared_migrations
from shared.events import decode, event_class
from shared.eventstore import EventStore
from shared.sealing import Sealing, named_subjects, sealed_subjects
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


async def test_new_streams_appended_in_bulk_are_sealed_as_append_seals_them(store, pool) -> None:
    """``append_new_streams`` (the codec's ``seal_many``: one read of the keys for all): every personal event of
    the catalog in one append, sealed for the same people as ``append`` seals it, opened alike; a person whose
    key was shredded before gets placeholders, and their key is not made again."""
    named = next(cls for cls in PERSONAL if cls.data_subjects)
    erased = named_subjects(named, _with_markers(named.type_name())[0])[0]
    async with pool.acquire() as conn:
        await Sealing().shred(conn, erased)
    streams, all_markers = [], []
    for cls in PERSONAL:
        data, markers = _with_markers(cls.type_name())
        all_markers += markers
        events = [cls.model_validate(data)]
        if not cls.data_subjects:
            starter = STREAM_STARTERS[cls.owner]
            events.insert(0, event_class(starter).model_validate(VALID[starter]))
        streams.append((cls.type_name(), events))
    async with pool.acquire() as conn, conn.transaction():
        for stream, events in streams:
            await store.append(conn, f"one-{stream}", 0, events)
        await store.append_new_streams(conn, [(f"bulk-{stream}", events, None, None) for stream, events in streams])

    rows = await pool.fetch("SELECT stream_id, event_type, data::text AS data FROM events ORDER BY stream_id, version")
    assert not [m for m in all_markers if any(m in r["data"] for r in rows)]
    by_stream: dict[str, list] = {}
    for r in rows:
        by_stream.setdefault(r["stream_id"], []).append(
            sealed_subjects(r["event_type"], json.loads(r["data"]), "the stream")
        )
    for stream, _ in streams:
        assert by_stream[f"bulk-{stream}"] == by_stream[f"one-{stream}"], stream
    assert any(people for sealed in by_stream.values() for people in sealed)  # not all placeholders
    async with pool.acquire() as conn:
        for stream, _ in streams:
            bulk = [s.envelope.data for s in await store.read_stream(conn, f"bulk-{stream}")]
            one = [s.envelope.data for s in await store.read_stream(conn, f"one-{stream}")]
            assert bulk == one, stream
        assert await conn.fetchval("SELECT data_key FROM person_keys WHERE participant_id = $1", erased) is None
