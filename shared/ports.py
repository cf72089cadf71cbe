"""What use cases may hold instead of a database: a transaction token and the ports that take it.

Use cases in a service's ``application/`` never run SQL and never import ``asyncpg``.  They open a
transaction through ``Transactions`` and hand its connection (``Conn``, opaque to them) to ports:
the aggregate repository (``shared.repository``), the timer book, and the service's own ports
(Protocols in ``application/ports.py``, implemented in ``adapters/``).  Unit tests pass the in-memory
versions from ``shared.testing``; production passes the Postgres ones built in ``bootstrap.py``
(transactions: ``ServiceRuntime.transaction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from shared.events import Event

Conn = Any
"""One transaction's connection: ``asyncpg.Connection`` in production, a token in unit tests."""


@dataclass(frozen=True)
class Timer:
    """A durable timer (``shared.timers``): what its handler is given when it fires."""

    key: str
    kind: str
    subject: str
    due_at: datetime
    payload: dict[str, Any]


class Transactions(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[Conn]:
        """Open a transaction: commits when the block ends, rolls back when it raises."""
        ...


class Recording(Protocol):
    """A recorded event's envelope as the repository reads it."""

    @property
    def time(self) -> datetime: ...


class StoredLike(Protocol):
    @property
    def event(self) -> Event: ...

    @property
    def envelope(self) -> Any: ...


class EventStorePort(Protocol):
    """What use cases and the repository need of an event store (``shared.eventstore.EventStore``)."""

    async def append(
        self,
        conn: Conn,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> Sequence[Recording]: ...

    async def read_stream(self, conn: Conn, stream_id: str) -> Sequence[StoredLike]: ...


class TimersPort(Protocol):
    """The durable timer book (``shared.timers.TimerBook``)."""

    async def schedule(
        self, conn: Conn, key: str, kind: str, subject: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> None: ...

    async def cancel(self, conn: Conn, key: str) -> bool: ...

    async def pending(self, conn: Conn, subject: str | None = None) -> list[Timer]: ...
