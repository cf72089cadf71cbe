"""Event store on a real Postgres: append, read, optimistic concurrency."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from shared.events.profiles import MentorCapacityChanged, MentorTrainingCompleted
from shared.eventstore import ConcurrencyConflict, EventStore

pytestmark = pytest.mark.integration


def capacity_change(old: int, new: int, pid: str = "p1") -> MentorCapacityChanged:
    return MentorCapacityChanged(participant_id=pid, old_capacity=old, new_capacity=new)


async def append(pool: asyncpg.Pool, store: EventStore, stream: str, expected: int, *events) -> list:
    async with pool.acquire() as conn, conn.transaction():
        return await store.append(conn, stream, expected, list(events))


async def test_append_then_read_stream_in_order(pool: asyncpg.Pool) -> None:
    store = EventStore("profiles")
    first = await append(pool, store, "p1", 0, capacity_change(1, 2), capacity_change(2, 3))
    await append(
        pool, store, "p1", 2, MentorTrainingCompleted(participant_id="p1", kind="workshop", completed_on="2026-01-05")
    )

    async with pool.acquire() as conn:
        stream = await store.read_stream(conn, "p1")
    assert [s.envelope.sequence for s in stream] == [1, 2, 3]
    assert [s.envelope.type for s in stream] == [
        "MentorCapacityChanged",
        "MentorCapacityChanged",
        "MentorTrainingCompleted",
    ]
    assert stream[1].event == capacity_change(2, 3)
    assert stream[0].envelope.id == first[0].id
    assert stream[0].envelope.correlationid == stream[1].envelope.correlationid  # one command, one correlation


async def test_conflict_raises_and_writes_nothing(pool: asyncpg.Pool) -> None:
    store = EventStore("profiles")
    await append(pool, store, "p1", 0, capacity_change(1, 2))

    with pytest.raises(ConcurrencyConflict) as stale:
        await append(pool, store, "p1", 0, capacity_change(1, 5))
    with pytest.raises(ConcurrencyConflict) as ahead:
        await append(pool, store, "p1", 4, capacity_change(1, 5))

    assert (stale.value.expected, stale.value.actual) == (0, 1)
    assert (ahead.value.expected, ahead.value.actual) == (4, 1)
    assert "changed concurrently" in str(stale.value)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1


async def test_concurrent_writers_on_one_stream_exactly_one_wins(pool: asyncpg.Pool) -> None:
    store = EventStore("profiles")
    await append(pool, store, "p1", 0, capacity_change(1, 2))
    results = await asyncio.gather(
        *(append(pool, store, "p1", 1, capacity_change(2, 3 + i)) for i in range(8)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    conflicts = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(winners) == 1 and len(conflicts) == 7
    async with pool.acquire() as conn:
        stream = await store.read_stream(conn, "p1")
    assert [s.envelope.sequence for s in stream] == [1, 2]
    assert stream[1].envelope.id == winners[0][0].id


async def test_read_all_in_global_order_across_streams(pool: asyncpg.Pool) -> None:
    store = EventStore("profiles")
    for i in range(5):
        await append(pool, store, f"p{i % 2}", i // 2, capacity_change(i, i + 1, pid=f"p{i % 2}"))
    async with pool.acquire() as conn:
        everything = await store.read_all(conn)
        tail = await store.read_all(conn, after_position=everything[2].position, limit=10)
    assert [s.envelope.subject for s in everything] == ["p0", "p1", "p0", "p1", "p0"]
    assert [s.position for s in everything] == sorted(s.position for s in everything)
    assert [s.envelope.id for s in tail] == [s.envelope.id for s in everything[3:]]


async def test_append_outside_a_transaction_is_refused(pool: asyncpg.Pool) -> None:
    store = EventStore("profiles")
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            await store.append(conn, "p1", 0, [capacity_change(1, 2)])


async def test_rolled_back_state_change_takes_its_events_along(pool: asyncpg.Pool) -> None:
    store = EventStore("profiles")
    with pytest.raises(ZeroDivisionError):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, "p1", 0, [capacity_change(1, 2)])
            raise ZeroDivisionError("the use case fails after appending")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_old_schema_versions_are_upcast_on_read(pool: asyncpg.Pool) -> None:
    """A stored v1 payload of an event whose model is now v2 is read as v2."""
    from typing import ClassVar

    from shared.events.base import Event, _registry

    class StoreUpcastProbe(Event):
        owner: ClassVar[str] = "profiles"
        schema_version: ClassVar[int] = 2
        upcasters: ClassVar[dict] = {1: lambda d: {**d, "label": d.pop("name").upper()}}
        label: str

    try:
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO events (event_id, stream_id, version, event_type, schema_version, occurred_at,"
                " correlation_id, data) VALUES ($1, 's', 1, 'StoreUpcastProbe', 1, now(), $1, $2)",
                uuid.uuid4(),
                {"name": "old"},
            )
            [stored] = await EventStore("profiles").read_stream(conn, "s")
        assert stored.event == StoreUpcastProbe(label="OLD")
    finally:
        _registry.pop("StoreUpcastProbe")


async def test_relay_message_bytes_read_back_as_the_stored_envelope(pool: asyncpg.Pool) -> None:
    store = EventStore("profiles")
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, "p1", 0, [capacity_change(1, 2)], causation_id=uuid.uuid4())
    async with pool.acquire() as conn:
        [stored] = await store.read_stream(conn, "p1")
        row = await conn.fetchrow(
            "SELECT event_id, stream_id, version, event_type, schema_version, occurred_at, correlation_id,"
            " causation_id, data::text AS data FROM events WHERE stream_id = 'p1'"
        )
    from shared.envelope import Envelope

    assert Envelope.from_bytes(store.envelope_bytes(row, row["data"])) == stored.envelope
