"""The timer wheel's loop on the development clock, its rounds driven step by step (no database, no sleeping)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.clock import DevClock, DevClockFile
from shared.timers import TimerWheel

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _steps(task: asyncio.Task, n: int = 20) -> None:
    """Let the loop run ``n`` steps: enough for rounds that never wait, far too few for a poll."""
    for _ in range(n):
        if task.done():
            return
        await asyncio.sleep(0)


def _wheel(path: Path, rounds: list[datetime], after_round) -> TimerWheel:
    """A wheel whose round notes the time it read, then does ``after_round(number)`` before it ends."""
    wheel = TimerWheel(pool=None, handlers={}, clock=DevClock(path), poll_seconds=3600)  # type: ignore[arg-type]

    async def round_() -> int:
        rounds.append(wheel.clock.now())
        after_round(len(rounds))
        return 0

    wheel.fire_due = round_  # type: ignore[method-assign]
    return wheel


async def test_a_clock_steered_while_a_round_runs_starts_the_next_round_without_the_poll(tmp_path: Path) -> None:
    """The demo steps the time after the round read the clock for the last time and before the round ended:
    the wheel must see that change, not take it for the time it already saw and sleep its poll (an hour here)."""
    path, stop, rounds = tmp_path / "clock", asyncio.Event(), []
    writer = DevClockFile(path)
    writer.set(START)

    def steer(number: int) -> None:
        if number == 1:
            writer.set(START + timedelta(days=1))
        else:
            stop.set()

    task = asyncio.create_task(_wheel(path, rounds, steer).run(stop))
    try:
        await _steps(task)
        assert rounds == [START, START + timedelta(days=1)]
        assert task.done()
    finally:
        task.cancel()


async def test_an_unsteered_clock_waits_for_a_change_and_a_change_wakes_it(tmp_path: Path) -> None:
    path, stop, rounds = tmp_path / "clock", asyncio.Event(), []
    writer = DevClockFile(path)
    writer.set(START)
    task = asyncio.create_task(_wheel(path, rounds, lambda number: stop.set() if number == 2 else None).run(stop))
    try:
        await _steps(task)
        assert rounds == [START] and not task.done()  # nothing changed: it waits (the poll is an hour)
        writer.set(START + timedelta(hours=1))
        await asyncio.wait_for(task, timeout=60)  # woken by the change (the watch stats every few ms)
        assert rounds == [START, START + timedelta(hours=1)]
    finally:
        task.cancel()
