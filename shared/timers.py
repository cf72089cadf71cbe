"""Durable timers in the owning service's database.

``schedule`` and ``cancel`` run inside the caller's transaction, so a timer is
set or cleared together with the state change that needs it.  Inside a timer unit
(``gathered(conn)``, or ``gathering(hooks)`` around a repository's commit hooks) the
``TimerBook`` only queues them and writes the unit's schedules and cancels in one
statement when the unit ends (``_write``), with the same outcome as one by one.  ``TimerWheel``
fires due timers: each one in its own transaction that also marks it fired, so
a timer fires once even with several replicas (``FOR UPDATE SKIP LOCKED``) and
across restarts.  Time comes from an injectable clock: tests move the clock
and call ``fire_due`` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg

from shared.clock import Clock, DevClock, SystemClock
from shared.logging import get_logger
from shared.ports import Timer
from shared.waiting import until_any

log = get_logger(__name__)


TimerHandler = Callable[[asyncpg.Connection, Timer], Awaitable[None]]


async def schedule(
    conn: asyncpg.Connection, key: str, kind: str, subject: str, due_at: datetime, payload: dict[str, Any] | None = None
) -> None:
    """Set (or move) the timer ``key``; a timer that already fired is armed again."""
    await conn.execute(
        """
        INSERT INTO timers (timer_key, kind, subject, due_at, payload) VALUES ($1, $2, $3, $4, $5::text::jsonb)
        ON CONFLICT (timer_key) DO UPDATE SET
            kind = EXCLUDED.kind, subject = EXCLUDED.subject, due_at = EXCLUDED.due_at,
            payload = EXCLUDED.payload, fired_at = NULL, cancelled_at = NULL
        """,
        key,
        kind,
        subject,
        due_at,
        _json(payload or {}),
    )


async def cancel(conn: asyncpg.Connection, key: str) -> bool:
    """Cancel a pending timer; False when there was none pending."""
    status = await conn.execute(
        "UPDATE timers SET cancelled_at = now() WHERE timer_key = $1 AND fired_at IS NULL AND cancelled_at IS NULL",
        key,
    )
    return status.endswith(" 1")


@dataclass(frozen=True)
class _Arm:
    """A unit's last word on a key that it scheduled: armed as given, or (``cancelled``) armed then cancelled."""

    kind: str
    subject: str
    due_at: datetime
    payload: dict[str, Any]
    cancelled: bool = False


_CANCEL = "cancel"  # a unit's last word on a key it only cancelled


@dataclass
class _Unit:
    """The schedules and cancels made on ``conn`` since the unit began, folded per key in the order made."""

    conn: asyncpg.Connection
    last: dict[str, _Arm | str] = field(default_factory=dict)

    def schedule(self, key: str, kind: str, subject: str, due_at: datetime, payload: dict[str, Any] | None) -> None:
        self.last[key] = _Arm(kind, subject, due_at, dict(payload or {}))

    def cancel(self, key: str) -> None:
        word = self.last.pop(key, _CANCEL)
        self.last[key] = replace(word, cancelled=True) if isinstance(word, _Arm) else _CANCEL

    def take(self) -> dict[str, _Arm | str]:
        taken, self.last = self.last, {}
        return taken


_unit: ContextVar[_Unit | None] = ContextVar("timer_unit", default=None)


def _unit_of(conn: asyncpg.Connection) -> _Unit | None:
    unit = _unit.get()
    return unit if unit is not None and unit.conn is conn else None


_WRITE = """
    WITH cancelled AS (
        UPDATE timers SET cancelled_at = now()
        WHERE timer_key = ANY($1::text[]) AND fired_at IS NULL AND cancelled_at IS NULL
    )
    INSERT INTO timers (timer_key, kind, subject, due_at, payload, cancelled_at)
    SELECT t.timer_key, t.kind, t.subject, t.due_at::timestamptz, t.payload::jsonb,
           CASE WHEN t.timer_key = ANY($7::text[]) THEN now() END
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
        AS t (timer_key, kind, subject, due_at, payload)
    ON CONFLICT (timer_key) DO UPDATE SET
        kind = EXCLUDED.kind, subject = EXCLUDED.subject, due_at = EXCLUDED.due_at,
        payload = EXCLUDED.payload, fired_at = NULL, cancelled_at = EXCLUDED.cancelled_at
"""
"""Every array is text: asyncpg knows ``text[]`` without asking, while a ``timestamptz[]`` or ``bool[]`` parameter
costs each pooled connection a type introspection the first time (4 more statements on ``start`` in
tests/integration/relationships/test_timer_statements.py, and a session reset for its ``set_config``)."""


async def _write(conn: asyncpg.Connection, last: dict[str, _Arm | str]) -> None:
    """A unit's timer work in one statement (a relationship's commit made 4-6 one by one: bench/load.py's
    ``mentorship_db_statements_total`` per command).

    Each key is written once, by its last word, with what the calls in their order would have left: a key only
    cancelled is cancelled if pending; a scheduled one is armed (a cancel before the schedule changes nothing), and
    a schedule followed by a cancel leaves it armed and cancelled.  A statement may change a row only once, which
    the folding per key guarantees; keys go in sorted order so two units lock shared keys in the same order."""
    if not last:
        return
    cancels, arms = [], []
    for key in sorted(last):
        word = last[key]
        if isinstance(word, _Arm):
            arms.append((key, word))
        else:
            cancels.append(key)
    await conn.execute(
        _WRITE,
        cancels,
        [key for key, _ in arms],
        [arm.kind for _, arm in arms],
        [arm.subject for _, arm in arms],
        [arm.due_at.astimezone(UTC).isoformat() for _, arm in arms],  # a naive time is local, as asyncpg takes it
        [_json(arm.payload) for _, arm in arms],
        [key for key, arm in arms if arm.cancelled],
    )


@contextlib.asynccontextmanager
async def gathered(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """A timer unit on ``conn``: the ``TimerBook``'s schedules and cancels on it inside the block are queued and
    written together (``_write``) when the block ends without an error; one that raises writes nothing (its
    transaction is rolled back anyway).  A block inside a unit on the same connection joins it."""
    if _unit_of(conn) is not None:
        yield
        return
    unit = _Unit(conn)
    token = _unit.set(unit)
    try:
        yield
    finally:
        _unit.reset(token)
    await _write(conn, unit.take())


A = TypeVar("A")
Hook = Callable[[asyncpg.Connection, A, Sequence[Any], datetime], Awaitable[None]]


def gathering(hooks: Sequence[Hook[A]]) -> Hook[A]:
    """One commit hook (``shared.repository``) running ``hooks`` in order inside one timer unit: the timer work of
    all of them goes in one statement after the last."""
    hooks = tuple(hooks)

    async def run(conn: asyncpg.Connection, aggregate: A, events: Sequence[Any], now: datetime) -> None:
        async with gathered(conn):
            for hook in hooks:
                await hook(conn, aggregate, events, now)

    return run


async def pending(conn: asyncpg.Connection, subject: str | None = None) -> list[Timer]:
    rows = await conn.fetch(
        "SELECT timer_key, kind, subject, due_at, payload::text AS payload FROM timers"
        " WHERE fired_at IS NULL AND cancelled_at IS NULL AND ($1::text IS NULL OR subject = $1)"
        " ORDER BY due_at, timer_key",
        subject,
    )
    return [_timer(r) for r in rows]


DEV_CLOCK_WATCH_SECONDS = 0.005


class TimerWheel:
    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: dict[str, TimerHandler],
        clock: Clock | None = None,
        *,
        poll_seconds: float = 1.0,
        batch_size: int = 100,
        retry_delay: timedelta = timedelta(seconds=30),
        max_retry_delay: timedelta = timedelta(hours=1),
    ) -> None:
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.pool = pool
        self.handlers = handlers
        self.clock = clock or SystemClock()
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size

    async def fire_due(self) -> int:
        """Fire every timer due by the clock's now; returns how many fired."""
        fired = 0
        while True:
            batch = await self._fire_batch()
            fired += batch
            if batch < self.batch_size:
                return fired

    async def _fire_batch(self) -> int:
        fired = 0
        for _ in range(self.batch_size):
            outcome = await self._fire_next()
            if outcome is None:
                break
            fired += outcome
        return fired

    async def _fire_next(self) -> int | None:
        """Fire the most overdue timer: 1 if it fired, 0 if its handler failed, None if none is due."""
        now = self.clock.now()
        row = None
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    "SELECT timer_key, kind, subject, due_at, payload::text AS payload FROM timers"
                    " WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1"
                    " ORDER BY due_at, timer_key LIMIT 1 FOR UPDATE SKIP LOCKED",
                    now,
                )
                if row is None:
                    return None
                timer = _timer(row)
                handler = self.handlers.get(timer.kind)
                if handler is None:
                    raise LookupError(f"no handler for timer kind {timer.kind!r}")
                await handler(conn, timer)
                await conn.execute("UPDATE timers SET fired_at = $2 WHERE timer_key = $1", timer.key, now)
                return 1
        except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
            raise
        except Exception as exc:
            if row is None:
                raise
            await self._postpone(row["timer_key"], now, exc)
            return 0

    async def _postpone(self, key: str, now: datetime, error: Exception) -> None:
        async with self.pool.acquire() as conn:
            attempts = await conn.fetchval(
                "UPDATE timers SET attempts = attempts + 1, last_error = $2 WHERE timer_key = $1 RETURNING attempts",
                key,
                repr(error)[:2000],
            )
            retry_at = now + min(self.retry_delay * 2 ** (attempts - 1), self.max_retry_delay)
            await conn.execute("UPDATE timers SET due_at = $2 WHERE timer_key = $1", key, retry_at)
        log.warning("timer handler failed; postponed", timer=key, attempts=attempts, error=repr(error))

    async def run(self, stop: asyncio.Event) -> None:
        steered = self.clock if isinstance(self.clock, DevClock) else None
        while not stop.is_set():
            # the dev clock's file as the round is about to read it: a change during the round shows after it
            mark = steered.stamp() if steered is not None else None
            try:
                await self.fire_due()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("timer wheel round failed; retrying", error=repr(exc))
            if steered is not None:
                await self._until_steered(steered, mark, stop)
                continue
            await until_any(stop, seconds=self.poll_seconds)

    async def _until_steered(self, clock: DevClock, mark: tuple[int, int, int] | None, stop: asyncio.Event) -> None:
        """Development only: the poll's wait, cut short when the dev clock's file changes (the demo steps the
        time to a timer's due moment and waits for it to fire: a stat every few ms instead of a poll's wait per
        step; ``mentorship dev up``'s demo timings).

        ``mark`` is the file as it was before the round: a change made while the round ran (after it had read the
        clock for the last time) starts the next round at once instead of waiting out the poll."""
        deadline = asyncio.get_running_loop().time() + self.poll_seconds
        while not stop.is_set() and clock.stamp() == mark:
            if asyncio.get_running_loop().time() >= deadline:
                return
            await asyncio.sleep(DEV_CLOCK_WATCH_SECONDS)


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, default=str)


def _timer(row: asyncpg.Record) -> Timer:
    return Timer(row["timer_key"], row["kind"], row["subject"], row["due_at"], json.loads(row["payload"]))


class TimerBook:
    """The timers as a port (``shared.ports.TimersPort``): what use cases and hooks are handed.

    Outside a timer unit each call is its statement; inside one (``gathered``) schedules and cancels are queued
    for the unit's one ``_write``, and ``pending`` writes what is queued first, so it reads what was asked."""

    async def schedule(
        self,
        conn: asyncpg.Connection,
        key: str,
        kind: str,
        subject: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> None:
        if (unit := _unit_of(conn)) is not None:
            unit.schedule(key, kind, subject, due_at, payload)
            return
        await schedule(conn, key, kind, subject, due_at, payload)

    async def cancel(self, conn: asyncpg.Connection, key: str) -> bool:
        """Whether a pending timer was cancelled; inside a unit the cancel is queued and the answer is True."""
        if (unit := _unit_of(conn)) is not None:
            unit.cancel(key)
            return True
        return await cancel(conn, key)

    async def pending(self, conn: asyncpg.Connection, subject: str | None = None) -> list[Timer]:
        if (unit := _unit_of(conn)) is not None:
            await _write(conn, unit.take())
        return await pending(conn, subject)
