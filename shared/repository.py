"""The one way a use case loads and commits an aggregate.

``load`` rebuilds from the stream, ``get`` refuses a stream that does not exist, ``commit`` appends what
the aggregate decided at the version it decided on (``ConcurrencyConflict`` if another writer got there
first), applies it, and then runs the service's hooks in the same transaction: view rows, timers, a
slot taken.  A hook that raises rolls everything back, events included.

The store is a port: ``EventStore`` in production, ``shared.testing.InMemoryEventStore`` in unit tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from shared.aggregate import Aggregate
from shared.errors import ConcurrencyConflict
from shared.events import Event
from shared.ports import Conn, EventStorePort

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

DECISION_ATTEMPTS = 3


async def deciding_afresh(decide: Callable[[], Awaitable[T]], attempts: int = DECISION_ATTEMPTS) -> T:
    """Run a whole load → decide → commit again when another writer committed to the stream in between.

    Only for commands whose caller named no version (no ``If-Match``): the caller asked for an outcome, not for a
    change to what they had seen, so the decision is made again on what is there now (a registration landing on
    the person HR's feed created a moment earlier). A caller's stale ``If-Match`` stays a 409.
    """
    for attempt in range(attempts):
        try:
            return await decide()
        except ConcurrencyConflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


CommitHook = Callable[[Conn, A, Sequence[Event], datetime], Awaitable[None]]
"""Runs after the append, in the same transaction: ``(conn, aggregate after the events, events, now)``."""

CommitManyHook = Callable[[Conn, Sequence[tuple[A, Sequence[Event]]], datetime], Awaitable[None]]
"""The same for many aggregates committed together (``commit_new``): one call for all of them."""


class Repository(Generic[A]):
    def __init__(
        self,
        store: EventStorePort,
        aggregate: type[A],
        *,
        not_found: Callable[[str], Exception],
        on_commit: Sequence[CommitHook[A]] = (),
        on_commit_many: Sequence[CommitManyHook[A]] = (),
    ) -> None:
        """``on_commit_many``: the batch form of ``on_commit`` (the same effects), used by ``commit_new``;
        without it ``commit_new`` runs the ``on_commit`` hooks aggregate by aggregate."""
        self.store = store
        self.aggregate = aggregate
        self.not_found = not_found
        self.on_commit = tuple(on_commit)
        self.on_commit_many = tuple(on_commit_many)

    def new(self, stream_id: str) -> A:
        """A new, empty aggregate (what ``load`` gives for a stream without events), read from nowhere."""
        return self.aggregate.rebuild(stream_id, [])

    async def load(self, conn: Conn, stream_id: str) -> A:
        """The aggregate, new and empty if its stream has no events yet."""
        history = await self.store.read_stream(conn, stream_id)
        return self.aggregate.rebuild(stream_id, [(stored.event, stored.envelope.time) for stored in history])

    async def load_or_none(self, conn: Conn, stream_id: str) -> A | None:
        aggregate = await self.load(conn, stream_id)
        return aggregate if aggregate.exists else None

    async def get(self, conn: Conn, stream_id: str, *, expected_version: int | None = None) -> A:
        """The existing aggregate; ``not_found`` if there is none.  ``expected_version``: the version the
        caller last saw (an ``If-Match``); a stale one is a ``ConcurrencyConflict`` before any decision."""
        aggregate = await self.load(conn, stream_id)
        if not aggregate.exists:
            raise self.not_found(stream_id)
        if expected_version is not None and expected_version != aggregate.version:
            raise ConcurrencyConflict(stream_id, expected_version, aggregate.version)
        return aggregate

    async def commit(
        self,
        conn: Conn,
        aggregate: A,
        events: Sequence[Event],
        *,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> int:
        """Append ``events`` at the version ``aggregate`` decided on, evolve it, run the hooks; the new version."""
        if not events:
            return aggregate.version
        recorded = await self.store.append(
            conn,
            aggregate.stream_id,
            aggregate.version,
            events,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        now = recorded[0].time
        aggregate.apply_all(events, now)
        for hook in self.on_commit:
            await hook(conn, aggregate, events, now)
        return aggregate.version

    async def commit_new(
        self,
        conn: Conn,
        decided: Sequence[tuple[A, Sequence[Event], UUID | None]],
        *,
        correlation_id: UUID | None = None,
    ) -> None:
        """Commit many new aggregates at once: ``(aggregate at version 0, its events, causation id)`` each.

        The same as ``commit`` for each, in one append when the store can (``append_new_streams``) and with
        the batch hooks; ``ConcurrencyConflict`` if one of the streams exists by now (nothing written)."""
        decided = [(aggregate, events, causation) for aggregate, events, causation in decided if events]
        if any(aggregate.version != 0 for aggregate, _, _ in decided):
            raise ValueError("commit_new takes new aggregates only")
        append_new_streams = getattr(self.store, "append_new_streams", None)
        if append_new_streams is None or (self.on_commit and not self.on_commit_many):
            for aggregate, events, causation in decided:
                await self.commit(conn, aggregate, events, correlation_id=correlation_id, causation_id=causation)
            return
        if not decided:
            return
        now = await append_new_streams(
            conn,
            [(aggregate.stream_id, events, correlation_id, causation) for aggregate, events, causation in decided],
        )
        for aggregate, events, _ in decided:
            aggregate.apply_all(events, now)
        for hook in self.on_commit_many:
            await hook(conn, [(aggregate, events) for aggregate, events, _ in decided], now)
