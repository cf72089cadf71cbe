"""When the services have caught up: what they appended is published and consumed, due timers have fired.

Reads only the plumbing every service shares (``events`` positions, ``outbox`` and ``timers`` from
``shared/migrations``; consumer-group offsets on the broker), never a service's own tables.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime
from functools import partial

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.bus import new_admin, new_consumer
from shared.clock import DevClockFile

# A timer whose handler keeps failing is postponed by the wheel; the demo does not wait on it.  One query
# answers both questions of a step: how many are still due by $1 (null: none asked), and the earliest pending.
_DUE = (
    "SELECT count(*) FILTER (WHERE due_at <= $1) AS due, min(due_at) AS next FROM timers"
    " WHERE fired_at IS NULL AND cancelled_at IS NULL AND attempts < 3"
)
_APPENDED = "SELECT event_id, position FROM events WHERE position > $1"


class Settler:
    def __init__(
        self, dsns: Mapping[str, str], bootstrap: str, groups: Mapping[str, list[str]], timed: tuple[str, ...]
    ) -> None:
        """``dsns`` of the services that publish; ``groups`` → topics they consume; ``timed``: whose timers to step."""
        self.dsns, self.bootstrap, self.groups, self.timed = dict(dsns), bootstrap, dict(groups), timed
        self.conns: dict[str, asyncpg.Connection] = {}
        self.admin: AIOKafkaAdminClient | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self.partitions: list[TopicPartition] = []
        self.marks: dict[str, int] = {}  # last event position covered by a settle, per publisher
        self.seen: dict[str, tuple[TopicPartition, int]] = {}  # event id → where it landed, until settled
        self.target: dict[TopicPartition, int] = {}  # offsets the groups must have committed
        self._next_due: datetime | None = None

    async def __aenter__(self) -> Settler:
        for name, dsn in self.dsns.items():
            self.conns[name] = await asyncpg.connect(dsn)
        self.admin = new_admin(self.bootstrap)
        await self.admin.start()
        self.consumer = new_consumer(
            self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
        )
        await self.consumer.start()
        topics = sorted({t for consumed in self.groups.values() for t in consumed})
        await self.consumer.topics()
        self.partitions = [
            TopicPartition(t, p) for t in topics for p in sorted(self.consumer.partitions_for_topic(t) or ())
        ]
        self.consumer.assign(self.partitions)
        self.consumer.pause(*self.partitions)  # read only while settling (``_read``): idle, it would fetch all along
        return self

    async def __aexit__(self, *_: object) -> None:
        for conn in self.conns.values():
            await conn.close()
        if self.consumer is not None:
            await self.consumer.stop()
        if self.admin is not None:
            await self.admin.close()

    @property
    def known_next_due(self) -> datetime | None:
        """The earliest pending timer as the last ``step_to`` found it (calls since may have set others)."""
        return self._next_due

    async def next_due(self) -> datetime | None:
        due, _ = await self._timers(None)
        return due

    async def _timers(self, at: datetime | None) -> tuple[datetime | None, int]:
        """The earliest pending timer of the timed services, and how many are due by ``at``: their databases
        asked together (a step is a few of these; the demo makes hundreds of steps)."""
        rows = await asyncio.gather(*(self.conns[name].fetchrow(_DUE, at) for name in self.timed))
        nexts = [r["next"] for r in rows if r["next"] is not None]
        return min(nexts, default=None), sum(r["due"] for r in rows)

    async def step_to(
        self, clock: DevClockFile, until: datetime, *, timers_may_have_changed: bool = True, timeout: float = 60
    ) -> int:
        """Move the clock to ``until``, stopping at every timer due on the way until it has fired.

        Without ``timers_may_have_changed`` (only the HR feed was fed since the last step) the next due
        time known from that step is used instead of asking the databases again.
        """
        steps = 0
        if timers_may_have_changed:
            self._next_due = await self.next_due()
        while self._next_due is not None and self._next_due <= until:
            due = self._next_due
            clock.set(due)
            await self._wait(partial(self._fired, due), "timers due at " + due.isoformat(), timeout, cap=0.01)
            steps += 1
        clock.set(until)
        return steps

    async def _fired(self, due: datetime) -> int:
        """Timers still due by ``due``; once none, the earliest pending one is the next stop.  (A wheel sees a
        clock change made during its round: ``shared.timers.TimerWheel``, so the clock is written once.)"""
        self._next_due, left = await self._timers(due)
        return left

    async def settle(self, groups: tuple[str, ...] | None = None, rounds: int = 2, timeout: float = 300) -> None:
        """Wait until what the services had appended is published and handled by the consumer ``groups``.

        Each round takes the events appended since the last round (by position, in every publisher),
        reads the topics until each of them has been seen (so its partition and offset are known), then
        waits until the groups (default all) have committed past them; a second round covers what the
        first one's handlers appended.  Later events (profiles working through the HR feed) do not hold
        a round up.
        """
        for _ in range(rounds):
            names = list(self.conns)
            found = await asyncio.gather(*(self.conns[n].fetch(_APPENDED, self.marks.get(n, 0)) for n in names))
            expected: set[str] = set()
            for name, rows in zip(names, found, strict=True):
                expected |= {str(r["event_id"]) for r in rows}
                self.marks[name] = max((r["position"] for r in rows), default=self.marks.get(name, 0))
            await self._read(expected, timeout)
            for event_id in expected:
                tp, offset = self.seen.pop(event_id)
                self.target[tp] = max(self.target.get(tp, 0), offset + 1)
            await self._wait(lambda: self.behind(self.target, groups), "consumers to catch up", timeout, cap=0.02)

    async def _read(self, expected: set[str], timeout: float) -> None:
        assert self.consumer is not None
        self.consumer.resume(*self.partitions)
        try:
            await self._wait(partial(self._unseen, expected), "events to reach the broker", timeout, cap=0.02)
        finally:
            self.consumer.pause(*self.partitions)

    async def _unseen(self, expected: set[str]) -> int:
        """Reads what the topics hold (Tansu's ListOffsets can lag, so ends are found by reading)."""
        assert self.consumer is not None
        batch = await self.consumer.getmany(timeout_ms=20, max_records=10_000)
        for tp, records in batch.items():
            for record in records:
                headers = dict(record.headers)
                event_id = headers.get("event_id") or headers.get("ce_id")  # ce_id: records published before
                if event_id is not None:
                    self.seen[event_id.decode()] = (tp, record.offset)
        return sum(event_id not in self.seen for event_id in expected)

    async def behind(self, target: Mapping[TopicPartition, int], groups: tuple[str, ...] | None = None) -> int:
        """Records up to ``target`` the consumer groups have not handled yet."""
        assert self.admin is not None
        asked = [(g, [tp for tp in self.partitions if tp.topic in topics]) for g, topics in self.groups.items()]
        asked = [(g, partitions) for g, partitions in asked if groups is None or g in groups]
        answers = await asyncio.gather(
            *(self.admin.list_consumer_group_offsets(g, partitions=partitions) for g, partitions in asked)
        )
        missing = 0
        for (_, partitions), committed in zip(asked, answers, strict=True):
            for tp in partitions:
                done = committed.get(tp)
                missing += max(target.get(tp, 0) - max(done.offset if done is not None else 0, 0), 0)
        return missing

    @staticmethod
    async def _wait(remaining, what: str, timeout: float, cap: float = 0.05) -> None:
        deadline = time.monotonic() + timeout
        pause = 0.002
        while (left := await remaining()) > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"demo: waited {timeout:.0f}s for {what}; {left} still pending")
            await asyncio.sleep(pause)
            pause = min(pause * 2, cap)  # quick when it is quick, light on a busy machine when it is not
