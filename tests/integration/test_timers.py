"""Durable timers on real Postgres, with a moved clock instead of sleeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from shared.clock import FrozenClock
from shared.timers import Timer, TimerBook, TimerWheel, cancel, gathered, pending, schedule

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


async def _rows(pool, keys: list[str]) -> list[tuple]:
    rows = await pool.fetch(
        "SELECT timer_key, kind, subject, due_at, payload::text AS payload, fired_at IS NULL AS unfired,"
        " cancelled_at IS NULL AS uncancelled FROM timers WHERE timer_key = ANY($1::text[]) ORDER BY timer_key",
        keys,
    )
    side = {"one": "the side", "unit": "the side"}  # set_timer's subject: the side's name
    return [
        (r["timer_key"].split(":", 1)[1], r["kind"], side.get(r["subject"], r["subject"]), *tuple(r)[3:]) for r in rows
    ]


async def test_a_timer_unit_leaves_what_its_calls_one_by_one_leave_in_one_statement(fired_table) -> None:
    """The same calls, one by one and in a unit (``gathered``), on two sets of keys in the same states before."""
    pool, due = fired_table, START + timedelta(days=1)
    names = ["armed", "fired", "pending", "moved", "armed-then-cancelled", "fired-then-armed-then-cancelled",
             "cancelled-then-armed", "twice", "new-cancelled"]  # fmt: skip
    for side in ("one", "unit"):
        for name in ("armed", "fired", "pending", "moved", "fired-then-armed-then-cancelled", "cancelled-then-armed"):
            await set_timer(pool, f"{side}:{name}", due, payload={"n": name})
    await pool.execute("UPDATE timers SET fired_at = $1 WHERE timer_key LIKE '%:fired%'", START)

    async def calls(book: TimerBook, conn, side: str) -> None:
        later = due + timedelta(days=3)
        await book.cancel(conn, f"{side}:fired")  # fired: nothing to cancel
        await book.cancel(conn, f"{side}:pending")
        await book.schedule(conn, f"{side}:moved", "reminder", "s", later, {"moved": True})
        await book.schedule(conn, f"{side}:armed-then-cancelled", "deadline", "s", later)
        await book.cancel(conn, f"{side}:armed-then-cancelled")
        await book.schedule(conn, f"{side}:fired-then-armed-then-cancelled", "deadline", "s", later)
        await book.cancel(conn, f"{side}:fired-then-armed-then-cancelled")
        await book.cancel(conn, f"{side}:cancelled-then-armed")
        await book.schedule(conn, f"{side}:cancelled-then-armed", "deadline", "s", later)
        await book.schedule(conn, f"{side}:twice", "deadline", "s", later)
        await book.schedule(conn, f"{side}:twice", "reminder", "t", later + timedelta(hours=1), {"second": 2})
        await book.cancel(conn, f"{side}:new-cancelled")

    book = TimerBook()
    async with pool.acquire() as conn, conn.transaction():
        await calls(book, conn, "one")
    statements: list[str] = []
    async with pool.acquire() as conn, conn.transaction():

        def logged(query) -> None:
            if " timers " in query.query:  # not asyncpg's type introspection the first time a connection sees an array
                statements.append(query.query)

        conn.add_query_logger(logged)
        async with gathered(conn):
            await calls(book, conn, "unit")
            assert statements == []  # queued until the unit ends
        conn.remove_query_logger(logged)
    assert len(statements) == 1

    one, unit = await _rows(pool, [f"one:{n}" for n in names]), await _rows(pool, [f"unit:{n}" for n in names])
    assert one == unit
    assert {name for name, *_, unfired, uncancelled in unit if unfired and uncancelled} == {
        "armed", "moved", "cancelled-then-armed", "twice"}  # fmt: skip


async def test_a_timer_unit_that_raises_writes_nothing_and_pending_reads_what_it_queued(fired_table) -> None:
    pool, book = fired_table, TimerBook()
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(RuntimeError):
            async with gathered(conn):
                await book.schedule(conn, "a:deadline", "deadline", "a", START)
                raise RuntimeError("the hook failed")
        assert await pending(conn) == []
        async with gathered(conn):
            await book.schedule(conn, "b:deadline", "deadline", "b", START)
            async with gathered(conn):  # joins the unit
                await book.schedule(conn, "c:deadline", "deadline", "c", START)
            assert [t.key for t in await book.pending(conn)] == ["b:deadline", "c:deadline"]
            await book.cancel(conn, "b:deadline")
        assert [t.key for t in await pending(conn)] == ["c:deadline"]
