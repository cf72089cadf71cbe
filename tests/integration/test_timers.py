"""Durable timers on real Postgres, with a moved clock instead of sleeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from shared.clock import FrozenClock
from shared.timers import Timer, TimerWheel, cancel, pending, schedule

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.fired: list[str] = []

    async def __call__(self, conn: asyncpg.Connection, timer: Timer) -> None:
        await conn.execute("INSERT INTO fired (timer_key) VALUES ($1)", timer.key)
        self.fired.append(timer.key)


@pytest.fixture
async def fired_table(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute("CREATE TABLE fired (timer_key text)")
    return pool


async def set_timer(pool, key: str, due: datetime, kind: str = "deadline", payload=None) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await schedule(conn, key, kind, subject=key.split(":")[0], due_at=due, payload=payload)


async def test_fires_once_when_due_and_not_before(fired_table) -> None:
    pool, clock, record = fired_table, FrozenClock(START), Recorder()
    await set_timer(pool, "r1:deadline", START + timedelta(days=7), payload={"choice": 1})
    await set_timer(pool, "r2:deadline", START + timedelta(days=8))
    wheel = TimerWheel(pool, {"deadline": record}, clock)

    assert await wheel.fire_due() == 0
    clock.advance(timedelta(days=7))
    assert await wheel.fire_due() == 1
    assert await wheel.fire_due() == 0  # fired once
    clock.advance(timedelta(days=30))
    assert await wheel.fire_due() == 1
    assert record.fired == ["r1:deadline", "r2:deadline"]
    assert await pool.fetchval("SELECT count(*) FROM fired") == 2


async def test_survive_a_restart_and_two_wheels_never_fire_one_timer_twice(fired_table) -> None:
    pool, clock = fired_table, FrozenClock(START)
    for i in range(40):
        await set_timer(pool, f"r{i}:deadline", START + timedelta(minutes=i))
    clock.advance(timedelta(hours=1))
    first, second = Recorder(), Recorder()  # e.g. two replicas, or the service before and after a restart
    counts = await asyncio.gather(
        TimerWheel(pool, {"deadline": first}, clock, batch_size=5).fire_due(),
        TimerWheel(pool, {"deadline": second}, clock, batch_size=5).fire_due(),
    )
    assert sum(counts) == 40
    assert sorted(first.fired + second.fired) == sorted(f"r{i}:deadline" for i in range(40))
    assert await pool.fetchval("SELECT count(*) FROM fired") == 40


async def test_cancelled_and_moved_timers(fired_table) -> None:
    pool, clock, record = fired_table, FrozenClock(START), Recorder()
    await set_timer(pool, "a:reminder", START + timedelta(days=1), kind="reminder")
    await set_timer(pool, "b:reminder", START + timedelta(days=1), kind="reminder")
    async with pool.acquire() as conn, conn.transaction():
        assert await cancel(conn, "a:reminder") is True
        assert await cancel(conn, "a:reminder") is False
    await set_timer(pool, "b:reminder", START + timedelta(days=5), kind="reminder")  # moved later
    async with pool.acquire() as conn:
        assert [t.key for t in await pending(conn)] == ["b:reminder"]

    wheel = TimerWheel(pool, {"reminder": record}, clock)
    clock.advance(timedelta(days=2))
    assert await wheel.fire_due() == 0
    clock.advance(timedelta(days=3))
    assert await wheel.fire_due() == 1
    assert record.fired == ["b:reminder"]


async def test_a_failing_timer_is_postponed_and_does_not_block_others(fired_table) -> None:
    pool, clock, record = fired_table, FrozenClock(START), Recorder()
    attempts = 0

    async def flaky(conn, timer: Timer) -> None:
        nonlocal attempts
        attempts += 1
        await conn.execute("INSERT INTO fired (timer_key) VALUES ('half-done')")
        if attempts < 3:
            raise RuntimeError("mail server down")

    await set_timer(pool, "x:flaky", START, kind="flaky")
    await set_timer(pool, "y:deadline", START + timedelta(seconds=1))
    wheel = TimerWheel(pool, {"flaky": flaky, "deadline": record}, clock, retry_delay=timedelta(minutes=1))
    clock.advance(timedelta(seconds=5))

    assert await wheel.fire_due() == 1  # y fired, x postponed
    assert record.fired == ["y:deadline"]
    clock.advance(timedelta(minutes=1))
    assert await wheel.fire_due() == 0  # second failure: postponed 2 minutes
    clock.advance(timedelta(minutes=2))
    assert await wheel.fire_due() == 1
    row = await pool.fetchrow("SELECT attempts, last_error, fired_at FROM timers WHERE timer_key = 'x:flaky'")
    assert row["attempts"] == 2 and "mail server down" in row["last_error"] and row["fired_at"] is not None
    # the failed attempts' effects were rolled back with them
    assert await pool.fetchval("SELECT count(*) FROM fired WHERE timer_key = 'half-done'") == 1
