"""The in-memory event store, timer book and transactions (see the package docstring)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from shared.envelope import Envelope
from shared.errors import ConcurrencyConflict
from shared.events import Event
from shared.eventstore import StoredEvent
from shared.ports import Conn, Timer


class FixedClock:
    """A clock that moves only when told (``advance``)."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


class Snapshotting:
    """A fake whose whole state can be saved and put back (what a rolled-back transaction does)."""

    shared_attributes: tuple[str, ...] = ("clock",)
    """Held by reference, not saved: a clock is not rolled back."""

    def snapshot(self) -> Any:
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k not in self.shared_attributes})

    def restore(self, state: Any) -> None:
        self.__dict__.update(copy.deepcopy(state))


class InMemoryEventStore(Snapshotting):
    """``EventStore``'s contract without a database; ``conn`` is ignored.  Payloads round-trip through
    JSON as they do in Postgres, so a use case sees what it would read back in production."""

    def __init__(self, service: str = "test", clock: Any = None) -> None:
        self.source = f"/services/{service}"
        self.clock = clock or FixedClock()
        self.streams: dict[str, list[StoredEvent]] = {}
        self.position = 0

    async def append(
        self,
        conn: Conn,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> list[Envelope]:
        if not events:
            return []
        stream = self.streams.setdefault(stream_id, [])
        if len(stream) != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, len(stream))
        at = self.clock.now()
        ids = [uuid4() for _ in events]
        recorded = []
        for event_id, event in zip(ids, events, strict=True):
            self.position += 1
            envelope = Envelope.model_construct(
                id=event_id,
                source=self.source,
                type=event.type_name(),
                specversion="1.0",
                time=at,
                subject=stream_id,
                datacontenttype="application/json",
                correlationid=correlation_id or ids[0],
                causationid=causation_id,
                sequence=len(stream) + 1,
                schemaversion=event.schema_version,
                data=event.model_dump(mode="json"),
            )
            stream.append(StoredEvent(self.position, envelope))
            recorded.append(envelope)
        return recorded

    async def start_streams(self, conn: Conn, firsts: Sequence[tuple[str, Event]]) -> None:
        if any(self.streams.get(stream_id) for stream_id, _ in firsts):
            raise ConcurrencyConflict(firsts[0][0] if len(firsts) == 1 else "one of several", 0, actual=None)
        for stream_id, event in firsts:
            await self.append(conn, stream_id, 0, [event])

    async def stream_version(self, conn: Conn, stream_id: str) -> int:
        return len(self.streams.get(stream_id, []))

    async def read_stream(self, conn: Conn, stream_id: str) -> list[StoredEvent]:
        return list(self.streams.get(stream_id, []))

    def events(self, stream_id: str | None = None) -> list[Event]:
        """What was recorded, in order (one stream's, or every stream's by position)."""
        stored = (
            self.streams.get(stream_id, [])
            if stream_id
            else sorted((s for stream in self.streams.values() for s in stream), key=lambda s: s.position)
        )
        return [s.event for s in stored]


@dataclass
class InMemoryTimers(Snapshotting):
    """``shared.timers.TimerBook`` without a database; ``due(now)`` is what the timer wheel would fire."""

    armed: dict[str, Timer] = field(default_factory=dict)
    fired: list[str] = field(default_factory=list)

    async def schedule(
        self, conn: Conn, key: str, kind: str, subject: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> None:
        self.armed[key] = Timer(key, kind, subject, due_at, dict(payload or {}))

    async def cancel(self, conn: Conn, key: str) -> bool:
        return self.armed.pop(key, None) is not None

    async def pending(self, conn: Conn, subject: str | None = None) -> list[Timer]:
        timers = [t for t in self.armed.values() if subject is None or t.subject == subject]
        return sorted(timers, key=lambda t: (t.due_at, t.key))

    def due(self, now: datetime) -> list[Timer]:
        """Take the timers due by ``now`` (each fires once)."""
        due = [t for t in sorted(self.armed.values(), key=lambda t: (t.due_at, t.key)) if t.due_at <= now]
        for timer in due:
            del self.armed[timer.key]
            self.fired.append(timer.key)
        return due


class MemoryTransactions:
    """``shared.ports.Transactions`` over fakes: a block that raises restores every fake's state."""

    def __init__(self, *fakes: Snapshotting) -> None:
        self.fakes = fakes
        self.opened = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Conn]:
        saved = [fake.snapshot() for fake in self.fakes]
        self.opened += 1
        try:
            yield object()
        except BaseException:
            for fake, state in zip(self.fakes, saved, strict=True):
                fake.restore(state)
            raise
