"""The standing check's answers are kept only while they cannot be stale (``shared.standing.StandingCache``).

A change to ``participant_standing`` by anyone reaches the cache by its NOTIFY; the process that writes it through
``shared.standing.note`` forgets the participant before it commits; without a listening connection nothing is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest_asyncio

from shared.events.profiles import ParticipantDeactivated, ParticipantErased
from shared.standing import LISTENER_NAME, StandingCache, note
from tests.helpers import eventually


class Counted:
    """The real pool, counting the standing queries it is asked (what the cache saves)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.asked = pool, 0

    async def fetchval(self, query: str, *args: object) -> object:
        self.asked += 1
        return await self.pool.fetchval(query, *args)


@pytest_asyncio.fixture
async def listening(fresh_dsn: str, pool: asyncpg.Pool) -> AsyncIterator[StandingCache]:
    cache = StandingCache(fresh_dsn)
    stop = asyncio.Event()
    task = asyncio.create_task(cache.listen(stop, retry_seconds=0.1))
    await eventually(lambda: cache.whole_table)
    yield cache
    stop.set()
    await task


async def test_the_table_is_read_once_and_followed_as_it_changes(pool: asyncpg.Pool, listening: StandingCache) -> None:
    counted = Counted(pool)
    assert await listening.standing_of(counted, "p-1") is None
    assert await listening.standing_of(counted, "p-1") is None
    assert counted.asked == 0  # nobody is in the table: nothing to ask

    await pool.execute("INSERT INTO participant_standing (participant_id, standing) VALUES ('p-1', 'deactivated')")
    await eventually(lambda: _is(listening, counted, "p-1", "deactivated"))
    await pool.execute("UPDATE participant_standing SET standing = 'erased' WHERE participant_id = 'p-1'")
    await eventually(lambda: _is(listening, counted, "p-1", "erased"))
    await pool.execute("DELETE FROM participant_standing WHERE participant_id = 'p-1'")
    await eventually(lambda: _is(listening, counted, "p-1", None))
    await pool.execute("INSERT INTO participant_standing (participant_id, standing) VALUES ('p-1', 'erased')")
    await eventually(lambda: _is(listening, counted, "p-1", "erased"))
    await pool.execute("TRUNCATE participant_standing")
    await eventually(lambda: _is(listening, counted, "p-1", None))


async def test_the_writing_process_sees_its_change_as_soon_as_it_commits(
    pool: asyncpg.Pool, listening: StandingCache
) -> None:
    assert await listening.standing_of(pool, "p-2") is None
    async with pool.acquire() as conn, conn.transaction():
        await note(conn, ParticipantDeactivated(participant_id="p-2", reason="on_leave", effective_date=date.today()))
    assert await listening.standing_of(pool, "p-2") == "deactivated"  # no waiting for the NOTIFY
    async with pool.acquire() as conn, conn.transaction():
        await note(conn, ParticipantErased(participant_id="p-2"))
    assert await listening.standing_of(pool, "p-2") == "erased"


async def test_the_rows_there_when_it_starts_listening_are_known(fresh_dsn: str, pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO participant_standing (participant_id, standing) VALUES ('p-5', 'erased'), ('p-6', 'deactivated')"
    )
    cache = StandingCache(fresh_dsn)
    stop = asyncio.Event()
    task = asyncio.create_task(cache.listen(stop))
    try:
        await eventually(lambda: cache.whole_table)
        counted = Counted(pool)
        assert [await cache.standing_of(counted, p) for p in ("p-5", "p-6", "p-7")] == ["erased", "deactivated", None]
        assert counted.asked == 0
    finally:
        stop.set()
        await task


async def test_a_larger_table_is_asked_participant_by_participant(fresh_dsn: str, pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO participant_standing (participant_id, standing) VALUES ('p-8', 'erased'), ('p-9', 'erased')"
    )
    cache = StandingCache(fresh_dsn, size=2)
    stop = asyncio.Event()
    task = asyncio.create_task(cache.listen(stop))
    try:
        await eventually(lambda: cache.listening)
        counted = Counted(pool)
        assert await cache.standing_of(counted, "p-8") == "erased"
        assert await cache.standing_of(counted, "p-10") is None
        assert await cache.standing_of(counted, "p-8") == "erased"
        assert not cache.whole_table
        assert counted.asked >= 2
    finally:
        stop.set()
        await task


async def test_nothing_is_kept_without_a_listening_connection(fresh_dsn: str, pool: asyncpg.Pool) -> None:
    counted = Counted(pool)
    cache = StandingCache(fresh_dsn)
    assert await cache.standing_of(counted, "p-3") is None
    assert await cache.standing_of(counted, "p-3") is None
    assert counted.asked == 2


async def test_a_lost_listening_connection_forgets_and_listens_again(
    pool: asyncpg.Pool, listening: StandingCache
) -> None:
    counted = Counted(pool)
    assert await listening.standing_of(counted, "p-4") is None
    terminated = await pool.fetchval(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = $1",
        LISTENER_NAME,
    )
    assert terminated == 1
    await pool.execute("INSERT INTO participant_standing (participant_id, standing) VALUES ('p-4', 'erased')")
    await eventually(lambda: _is(listening, counted, "p-4", "erased"))
    await eventually(lambda: listening.listening)
    assert await listening.standing_of(counted, "p-4") == "erased"


async def _is(cache: StandingCache, pool: object, participant_id: str, standing: str | None) -> bool:
    return await cache.standing_of(pool, participant_id) == standing
