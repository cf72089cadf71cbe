"""Erased and deactivated people may no longer act, whatever their token says.

A token outlives the facts it was issued on: a person erased or deactivated a minute ago still holds an
access token for hours.  So every service keeps the standing of the people it heard of in its own table
(``participant_standing``), learnt from profiles' events (``steps()``, included in the service's handler
table; profiles writes it from its own commits), and ``shared.auth.current_principal`` checks it once, for
every route, before the route runs (``refusal``):

- **erased** → **410 Gone** on every route (the person no longer exists for the platform);
- **deactivated** → **403 Forbidden** on commands (POST, PUT, PATCH, DELETE); reading stays allowed, so a
  person on leave can still see their own records.  ``ParticipantReactivated`` lifts it.

Erasure is final: a later deactivation or reactivation does not change it.  Nothing of a refused command
runs, so nothing is written.

The check is asked on every authenticated request, and almost every answer is "nothing known": a process keeps the
table (``StandingCache``: read whole once, it holds only erased and deactivated people) while it listens for the
table's changes.  A trigger NOTIFYs the participant's id at the commit of any change to ``participant_standing``
(shared/migrations/009_standing_notify.sql), whoever wrote it (a replica's consumer, profiles' own command, an
operator's SQL); the process forgets what it knew of that participant and asks the table for them again.  ``note``
forgets it too, in the writing process, before its transaction commits, so the next request of a client that saw
the change committed asks the table.  Without a live listening connection nothing is kept and each request asks
the table, as before.  So an answer is never older than the change's NOTIFY's way from the commit to the process
(about as long as a request's own query takes); the change itself still comes from an event that took longer to
arrive.  Without the cache the query was a pool acquire and a round trip per request, the most frequent statement
of the command path (bench/load.py, SQL statements per command).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterable
from typing import Any

import asyncpg

from shared.envelope import Envelope
from shared.events import Event
from shared.events.profiles import ParticipantDeactivated, ParticipantErased, ParticipantReactivated
from shared.handlers import EventHandlers
from shared.logging import get_logger
from shared.waiting import until_any

log = get_logger(__name__)

ERASED, DEACTIVATED = "erased", "deactivated"
COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def note(conn: Any, event: Event) -> None:
    """Follow one profiles event in the caller's transaction (a no-op for any other event)."""
    if isinstance(event, ParticipantErased | ParticipantDeactivated | ParticipantReactivated):
        forget_everywhere(event.participant_id)
    if isinstance(event, ParticipantErased):
        await conn.execute(
            "INSERT INTO participant_standing (participant_id, standing) VALUES ($1, 'erased')"
            " ON CONFLICT (participant_id) DO UPDATE SET standing = 'erased', since = now()"
            " WHERE participant_standing.standing <> 'erased'",
            event.participant_id,
        )
    elif isinstance(event, ParticipantDeactivated):
        await conn.execute(
            "INSERT INTO participant_standing (participant_id, standing) VALUES ($1, 'deactivated')"
            " ON CONFLICT (participant_id) DO NOTHING",
            event.participant_id,
        )
    elif isinstance(event, ParticipantReactivated):
        await conn.execute(
            "DELETE FROM participant_standing WHERE participant_id = $1 AND standing = 'deactivated'",
            event.participant_id,
        )


async def note_all(conn: Any, events: Iterable[Event]) -> None:
    for event in events:
        await note(conn, event)


def steps() -> EventHandlers:
    """The consumed-event steps a service includes in its table (``handlers.include(standing.steps())``)."""
    handlers = EventHandlers()

    @handlers.on(ParticipantDeactivated, ParticipantReactivated, ParticipantErased)
    async def follow(conn: Any, event: Event, envelope: Envelope) -> None:
        await note(conn, event)

    return handlers


STANDING_QUERY = "SELECT standing FROM participant_standing WHERE participant_id = $1"
NOTIFY_CHANNEL = "participant_standing"  # the trigger's channel; the payload is the participant's id
CACHE_SIZE = 65_536  # answers a process keeps (the oldest forgotten first): a few MB at most
LISTENER_NAME = "participant_standing listener"  # its connection's application_name (pg_stat_activity)
CHECK_SECONDS = 10.0  # how often the listening connection is checked to be alive (a silent network loss)


async def standing_of(pool: Any, participant_id: str, cache: StandingCache | None = None) -> str | None:
    """The participant's standing in this service's table: ``cache``'s answer while it may give one."""
    if cache is not None:
        return await cache.standing_of(pool, participant_id)
    return await pool.fetchval(STANDING_QUERY, participant_id)


_CACHES: weakref.WeakSet[StandingCache] = weakref.WeakSet()


def forget_everywhere(participant_id: str) -> None:
    """Every cache of this process forgets the participant (a writer's own change, before its commit)."""
    for cache in list(_CACHES):
        cache.forget(participant_id)


class StandingCache:
    """The answers of ``participant_standing``, kept only while ``listen`` has a live connection LISTENing on
    ``NOTIFY_CHANNEL`` (see the module docstring).

    Once listening, the whole table is read (it holds only erased and deactivated people): from then on a participant
    not in it and not changed since is answered "nothing known" without a query (``_complete``). A participant whose
    row changed since (``_changed``) is asked again, and the answer kept.  ``_generation`` counts forgettings: an
    answer (or the whole table) read while anything was forgotten, or while the listening connection was lost, is not
    kept (it may predate the change), so a NOTIFY arriving during the query cannot be overtaken by its older answer."""

    def __init__(self, dsn: str, *, size: int = CACHE_SIZE) -> None:
        self.dsn = dsn
        self.size = size
        self.listening = False
        self._known: dict[str, str | None] = {}
        self._complete = False  # ``_known`` holds every row of the table, but for ``_changed``
        self._changed: set[str] = set()
        self._generation = 0
        _CACHES.add(self)

    async def standing_of(self, pool: Any, participant_id: str) -> str | None:
        if not self.listening:
            return await pool.fetchval(STANDING_QUERY, participant_id)
        try:
            return self._known[participant_id]
        except KeyError:
            if self._complete and participant_id not in self._changed:
                return None
        generation = self._generation
        standing = await pool.fetchval(STANDING_QUERY, participant_id)
        if self.listening and generation == self._generation:
            self._keep(participant_id, standing)
        return standing

    def _keep(self, participant_id: str, standing: str | None) -> None:
        if len(self._known) >= self.size:  # dropping an answer of the whole table would answer "nothing known"
            self._complete = False
            del self._known[next(iter(self._known))]
        self._known[participant_id] = standing
        self._changed.discard(participant_id)

    def forget(self, participant_id: str) -> None:
        self._generation += 1
        self._known.pop(participant_id, None)
        if self._complete:
            self._changed.add(participant_id)
            if len(self._changed) >= self.size:
                self._forget_all()

    def _forget_all(self) -> None:
        self._generation += 1
        self._known.clear()
        self._changed.clear()
        self._complete = False

    async def _read_whole_table(self, conn: Any) -> None:
        """Every row, unless the table is larger than ``size`` or something was forgotten meanwhile (then the
        answers are asked one by one, as before the table was read)."""
        for _attempt in range(3):
            generation = self._generation
            rows = await conn.fetch("SELECT participant_id, standing FROM participant_standing LIMIT $1", self.size)
            if len(rows) >= self.size or not self.listening:
                return
            if generation == self._generation:
                self._known = {row["participant_id"]: row["standing"] for row in rows}
                self._changed.clear()
                self._complete = True
                return

    @property
    def whole_table(self) -> bool:
        """Whether a participant never asked for is answered without a query (the table was read whole)."""
        return self.listening and self._complete

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload:
            self.forget(payload)
        else:  # the table was truncated
            self._forget_all()

    async def listen(self, stop: asyncio.Event, *, retry_seconds: float = 1.0) -> None:
        """Keep a connection LISTENing until ``stop``; answers are kept only while it lives (a runtime task)."""
        while not stop.is_set():
            try:
                await self._listen_once(stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.info("standing listener lost its connection; each request asks the table", error=repr(exc))
            except Exception as exc:  # never ends the task: without it every request asks the table, as before
                log.warning("standing listener failed; each request asks the table", error=repr(exc))
            finally:
                self.listening = False
                self._forget_all()
            await until_any(stop, seconds=retry_seconds)

    async def _listen_once(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": LISTENER_NAME})
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(NOTIFY_CHANNEL, self._notified)
            self._forget_all()
            self.listening = True  # from here on every committed change is NOTIFYed to this connection
            await self._read_whole_table(conn)
            while not (stop.is_set() or lost.is_set()):
                await until_any(stop, lost, seconds=CHECK_SECONDS)
                if not (stop.is_set() or lost.is_set()):
                    await conn.fetchval("SELECT 1", timeout=CHECK_SECONDS)  # raises when the connection is gone
        finally:
            self.listening = False
            self._forget_all()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), CHECK_SECONDS)

    async def run(self, runtime: Any, stop: asyncio.Event) -> None:
        """``ServiceRuntime.background`` form of ``listen``."""
        await self.listen(stop)


def refusal(participant_id: str, standing: str | None, method: str) -> tuple[int, str] | None:
    """The status and reason a caller of this standing gets for a request of ``method``; None: go on."""
    if standing == ERASED:
        return 410, f"participant {participant_id} was erased; their token no longer acts"
    if standing == DEACTIVATED and method.upper() in COMMAND_METHODS:
        return 403, f"participant {participant_id} is deactivated and may not act"
    return None


async def commit_hook(conn: Any, aggregate: Any, events: Iterable[Event], now: Any) -> None:
    """A repository commit hook for the service that decides these events itself (profiles)."""
    await note_all(conn, events)


async def commit_many_hook(conn: Any, decided: Iterable[tuple[Any, Iterable[Event]]], now: Any) -> None:
    """``commit_hook`` for a repository's bulk commit of new aggregates (``Repository.commit_new``)."""
    for _aggregate, events in decided:
        await note_all(conn, events)
