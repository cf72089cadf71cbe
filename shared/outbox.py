"""Outbox relay: publishes committed events to the service's topic, in order, at least once.

Exactly one relay per service publishes at a time: it holds a session-level
Postgres advisory lock on a dedicated connection.  Other replicas stand by and
take over within ``standby_poll_seconds`` when that connection goes away.

The relay wakes when a transaction that queued rows commits (a ``NOTIFY`` on ``outbox`` from a trigger on
the table, delivered at commit, to the connection that holds the lock), so an event is published within
milliseconds of its commit; ``poll_seconds`` is only the fallback (a notification lost with a connection).

Each round publishes the oldest unpublished rows (lowest positions first),
waits for the broker to acknowledge them all, then deletes them from the
outbox.  A crash between the two republishes the batch; consumers are
idempotent by event id.  Rows are found by presence in the outbox, never by
"position greater than the last one published", so a transaction that commits
late with a lower position is still published.

Parking (a sequenced dead letter, as Axon Framework keeps one): a row the broker refuses for good
is moved from ``outbox`` to ``outbox_parked``, and so is every later row of the same aggregate
(stream) until an operator resolves it (``mentorship outbox parked|retry|drop``); no row of that
aggregate overtakes the parked one, and every other aggregate keeps flowing.  "For good" means:

* the row, as it would be published, is over the producer's and the topics' limit for
  ``max_event_bytes`` (``shared.bus.max_message_bytes``; checked before sending: rows that entered
  the outbox before the setting was lowered, or past the append check);
* the producer refuses it on ``send`` (``MessageSizeTooLargeError``: over its ``max_request_size``);
* the broker answers ``MessageSizeTooLargeError``, ``RecordListTooLargeError`` or
  ``CorruptRecordException`` for it, and again when the row is sent alone (a refusal of a whole
  producer batch is not blamed on its other rows).

Any other error (no connection, timeouts, leader changes, authorisation, unknown codes) is the
broker's or the configuration's, not the row's: the round is retried without limit, as before.
A refusal that only comes with the acknowledgement can arrive after a later row of the same
aggregate was already sent; the check before sending, with the topics' limit derived from the same
setting, leaves that to a topic configured below it, and the relay logs each such overtaking.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import CorruptRecordException, KafkaError, MessageSizeTooLargeError, RecordListTooLargeError

from shared import tracing
from shared.bus import max_message_bytes, message_headers, message_size, topic_for
from shared.eventstore import EventStore
from shared.logging import get_logger
from shared.metrics import outbox_backlog as backlog_gauge
from shared.metrics import outbox_parked as parked_gauge
from shared.metrics import outbox_parked_events, outbox_published, relay_latency
from shared.waiting import until_any

log = get_logger(__name__)

PERMANENT_ERRORS = (MessageSizeTooLargeError, RecordListTooLargeError, CorruptRecordException)
"""What the producer or broker answers for a row that no retry will get through (see the module doc)."""

NOTIFY_CHANNEL = "outbox"  # every insert into the outbox notifies it at commit: the relay wakes at once
PARKED_GAUGE_SECONDS = 15.0  # how often an idle relay re-counts parked rows (an operator may resolve them)

# Limit the outbox first: joining first would walk the ever-growing events index on every batch.
# ``held``: an earlier event of the same aggregate is parked, so this one waits behind it.
_PENDING = """
SELECT e.position, e.event_id, e.stream_id, e.version, e.event_type, e.schema_version,
       e.occurred_at, e.correlation_id, e.causation_id, e.data::text AS data, o.trace_context,
       EXISTS (SELECT 1 FROM outbox_parked p WHERE p.stream_id = e.stream_id AND p.position < e.position) AS held
FROM (SELECT position, trace_context FROM outbox WHERE position <> ALL($2::bigint[]) ORDER BY position LIMIT $1) o
JOIN events e USING (position)
ORDER BY e.position
"""

# Moves rows from the outbox to the parked ones; ``$5``: only rows still behind a parked row of their
# aggregate (an operator may have retried or dropped it since the rows were read).
_PARK = """
WITH parked AS (
    INSERT INTO outbox_parked (position, stream_id, size_bytes, reason)
    SELECT r.position, r.stream_id, r.size_bytes, r.reason
    FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[]) AS r(position, stream_id, size_bytes, reason)
    WHERE NOT $5 OR EXISTS (
        SELECT 1 FROM outbox_parked p WHERE p.stream_id = r.stream_id AND p.position < r.position
    )
    ON CONFLICT (position) DO NOTHING
    RETURNING position
)
DELETE FROM outbox WHERE position IN (SELECT position FROM parked) RETURNING position
"""


def relay_lock_key(service: str) -> int:
    return zlib.crc32(f"outbox-relay:{service}".encode())


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    parked: int = 0
    active: bool = False
    last_error: str | None = field(default=None)


class OutboxRelay:
    def __init__(
        self,
        dsn: str,
        store: EventStore,
        producer: AIOKafkaProducer,
        *,
        topic: str | None = None,
        batch_size: int = 500,
        poll_seconds: float = 0.05,
        standby_poll_seconds: float = 1.0,
        max_event_bytes: int | None = None,
    ) -> None:
        self.dsn = dsn
        self.store = store
        self.producer = producer
        self.topic = topic or topic_for(store.service)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.standby_poll_seconds = standby_poll_seconds
        self.lock_key = relay_lock_key(store.service)
        # The producer's and the topics' limit for the same setting (the append check keeps events below it).
        self.max_message_bytes = max_message_bytes(max_event_bytes or store.max_event_bytes)
        self.stats = RelayStats()
        self._parked_counted = 0.0
        self._woken = asyncio.Event()  # set by a NOTIFY on ``outbox`` (shared/migrations/007_outbox_notify.sql)

    async def run(self, stop: asyncio.Event) -> None:
        """Stand by for the lock, then publish until ``stop`` is set; survives lost connections."""
        while not stop.is_set():
            try:
                await self._run_once(stop)
            except (OSError, KafkaError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.stats.active = False
                self.stats.last_error = repr(exc)
                log.warning("outbox relay interrupted; retrying", error=repr(exc))
                await until_any(stop, seconds=self.standby_poll_seconds)

    async def _run_once(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            # What this connection commits is the deletion (or parking) of rows already published: lost in a
            # crash, they are published again, which consumers already take as duplicates.  So each round's
            # DELETE need not wait for the WAL to reach the disk before the relay reads the next rows
            # (``bench/propagation.py``: a commit waiting behind the previous round's flush).
            await conn.execute("SET synchronous_commit TO off")
            while not stop.is_set():
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                    break
                await until_any(stop, seconds=self.standby_poll_seconds)
            else:
                return
            await conn.add_listener(NOTIFY_CHANNEL, self._notified)
            self.stats.active = True
            log.info("outbox relay active", topic=self.topic)
            await self._publish_until_stopped(conn, stop)
        finally:
            self.stats.active = False
            await conn.close()

    def _notified(self, *_: object) -> None:
        self._woken.set()

    async def _publish_until_stopped(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        """Pipelined rounds: the next batch is read and handed to the producer while the previous one waits
        for its acknowledgements (a full batch, or rows committed during the wait); rows are forgotten only
        once acknowledged."""
        await self._count_parked(conn)
        in_flight: _Batch | None = None
        while not stop.is_set():
            self._woken.clear()  # before the read: a commit after it wakes the wait below
            batch = await self._send_batch(conn, exclude=in_flight.positions if in_flight else [])
            if in_flight is not None:
                await self._settle(conn, in_flight)
            in_flight = batch
            if batch.fetched < self.batch_size:
                if in_flight.positions and await _woken_before_acked(stop, self._woken, in_flight.acks):
                    continue  # rows were committed meanwhile: read and send them, then settle this round
                if in_flight.positions:
                    await self._settle(conn, in_flight)
                in_flight = None
                if time.monotonic() - self._parked_counted > PARKED_GAUGE_SECONDS:
                    await self._count_parked(conn)
                await until_any(stop, self._woken, seconds=self.poll_seconds)  # woken: rows committed to the outbox
        if in_flight is not None:
            await self._settle(conn, in_flight)

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        """One round: publish up to a batch of unpublished events and forget them once acknowledged;
        the number of rows taken off the outbox (published or parked)."""
        batch = await self._send_batch(conn, exclude=[])
        await self._settle(conn, batch)
        return len(batch.positions) + batch.parked

    async def _send_batch(self, conn: asyncpg.Connection, exclude: list[int]) -> _Batch:
        rows = await conn.fetch(_PENDING, self.batch_size, exclude)
        batch = _Batch(fetched=len(rows))
        refused: list[tuple[_Message, str]] = []
        behind: list[_Message] = []
        blocked: set[str] = set()  # aggregates with a parked row: their later rows wait behind it
        for row in rows:
            message = self._message(row)
            if row["held"] or message.stream_id in blocked:
                behind.append(message)
                blocked.add(message.stream_id)
            elif message.size > self.max_message_bytes:
                refused.append((message, f"{message.size:,} bytes, over the bus's limit of {self.max_message_bytes:,}"))
                blocked.add(message.stream_id)
            else:
                try:
                    ack = await self._send(message)
                except PERMANENT_ERRORS as exc:
                    refused.append((message, f"refused by the producer: {exc}"))
                    blocked.add(message.stream_id)
                    continue
                batch.messages.append(message)
                batch.acks.append(ack)
        if refused or behind:  # committed before the next batch is read, so its rows see them
            batch.parked = await self._park(conn, refused, behind)
        return batch

    def _message(self, row: asyncpg.Record) -> _Message:
        payload = row["data"]  # as stored: personal fields stay sealed on the bus (shared.sealing)
        key = row["stream_id"].encode()
        value = self.store.envelope_bytes(row, payload)
        headers = message_headers(row["event_type"], row["event_id"])
        span, trace_headers = tracing.publish_span(self.topic, row["trace_context"], row["event_type"], row["event_id"])
        return _Message(
            row["position"], row["stream_id"], row["event_type"], row["occurred_at"], key, value,
            headers + trace_headers, message_size(key, value, headers), span,
        )  # fmt: skip

    async def _send(self, message: _Message) -> asyncio.Future:
        return await self.producer.send(self.topic, value=message.value, key=message.key, headers=message.headers)

    async def _settle(self, conn: asyncpg.Connection, batch: _Batch) -> None:
        if not batch.positions:
            return
        results = await asyncio.gather(*batch.acks, return_exceptions=True)
        failed = [(m, r) for m, r in zip(batch.messages, results, strict=True) if isinstance(r, BaseException)]
        for _, error in failed:
            if not isinstance(error, PERMANENT_ERRORS):
                raise error  # the broker's trouble, not the row's: the round is retried whole
        published = batch.messages
        if failed:
            published = await self._refused_after_send(conn, batch, failed)
        for message in batch.messages:
            tracing.end(message.span)
        acknowledged = datetime.now(UTC)
        positions = [m.position for m in published]
        await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])", positions)
        self.stats.published += len(positions)
        self.stats.batches += 1
        service = self.store.service
        outbox_published.labels(service).inc(len(positions))
        latency = relay_latency.labels(service)
        for message in published:
            latency.observe(max((acknowledged - message.occurred_at).total_seconds(), 0.0))
        if batch.fetched < self.batch_size:
            backlog_gauge.labels(service).set(0)
        else:
            backlog_gauge.labels(service).set(await outbox_backlog(conn))

    async def _refused_after_send(
        self, conn: asyncpg.Connection, batch: _Batch, failed: list[tuple[_Message, BaseException]]
    ) -> list[_Message]:
        """The broker refused some rows with a permanent error: each is sent again alone (a refused
        producer batch fails all its rows) and parked, with its aggregate's later rows, if refused again.
        Returns the batch's rows that are published."""
        refused: list[tuple[_Message, str]] = []
        behind: list[_Message] = []
        blocked: dict[str, int] = {}
        failed_positions = {m.position for m, _ in failed}
        for message, error in failed:
            if message.stream_id in blocked:
                behind.append(message)
                continue
            try:
                await (await self._send(message))
                failed_positions.discard(message.position)
            except PERMANENT_ERRORS as exc:
                refused.append((message, f"refused by the broker: {exc!r} (first {error!r})"))
                blocked[message.stream_id] = message.position
        published = [m for m in batch.messages if m.position not in failed_positions]
        for message in published:
            if message.position > blocked.get(message.stream_id, message.position):
                log.error(
                    "outbox event published ahead of a parked event of its aggregate",
                    stream_id=message.stream_id,
                    position=message.position,
                    parked_position=blocked[message.stream_id],
                )
        batch.parked += await self._park(conn, refused, behind)
        return published

    async def _park(self, conn: asyncpg.Connection, refused: list[tuple[_Message, str]], behind: list[_Message]) -> int:
        """Move refused rows, then the rows held behind them, from the outbox to ``outbox_parked``."""
        service = self.store.service
        parked = 0
        async with conn.transaction():
            if refused:
                moved = await conn.fetch(_PARK, *_columns([(m, reason) for m, reason in refused]), False)
                parked += len(moved)
            if behind:
                held = [(m, "behind a parked event of the same aggregate") for m in behind]
                moved_behind = {r["position"] for r in await conn.fetch(_PARK, *_columns(held), True)}
                parked += len(moved_behind)
        for message, reason in refused:
            log.error(
                "outbox event parked",
                stream_id=message.stream_id,
                position=message.position,
                event_type=message.event_type,
                size_bytes=message.size,
                reason=reason,
                topic=self.topic,
            )
        outbox_parked_events.labels(service, "refused").inc(len(refused))
        if behind:
            held_count = len(moved_behind)
            log.warning(
                "outbox events held behind a parked event",
                stream_ids=sorted({m.stream_id for m in behind if m.position in moved_behind}),
                held=held_count,
                released=len(behind) - held_count,  # their aggregate was retried or dropped meanwhile
            )
            outbox_parked_events.labels(service, "behind").inc(held_count)
        self.stats.parked += parked
        await self._count_parked(conn)
        return parked

    async def _count_parked(self, conn: asyncpg.Connection) -> None:
        parked_gauge.labels(self.store.service).set(await conn.fetchval("SELECT count(*) FROM outbox_parked"))
        self._parked_counted = time.monotonic()


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs twice as much (one per row published)
class _Message:
    position: int
    stream_id: str
    event_type: str
    occurred_at: datetime
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    size: int  # without the trace headers: what the append check measured
    span: object | None = None  # the producer span, when tracing is on (shared.tracing)


@dataclass
class _Batch:
    fetched: int
    messages: list[_Message] = field(default_factory=list)
    acks: list[asyncio.Future] = field(default_factory=list)
    parked: int = 0

    @property
    def positions(self) -> list[int]:
        return [m.position for m in self.messages]


def _columns(rows: list[tuple[_Message, str]]) -> tuple[list, list, list, list]:
    return (
        [m.position for m, _ in rows],
        [m.stream_id for m, _ in rows],
        [m.size for m, _ in rows],
        [reason for _, reason in rows],
    )


async def requeue_all(conn: asyncpg.Connection) -> int:
    """Queue every stored event for publishing again (a broker that lost its history is refilled
    in position order; consumers recognise what they already handled by event id)."""
    status = await conn.execute(
        "INSERT INTO outbox (position) SELECT position FROM events"
        " WHERE position NOT IN (SELECT position FROM outbox_parked) ON CONFLICT DO NOTHING"
    )
    return int(status.split()[-1])  # parked events stay parked: `mentorship outbox retry` is their way back


@dataclass(frozen=True)
class ParkedEvent:
    position: int
    stream_id: str
    version: int
    event_type: str
    size_bytes: int
    reason: str
    parked_at: datetime


async def parked_events(conn: asyncpg.Connection, stream_id: str | None = None) -> list[ParkedEvent]:
    """Parked events (of one aggregate, or all), in the order they would be published."""
    rows = await conn.fetch(
        """SELECT p.position, p.stream_id, e.version, e.event_type, p.size_bytes, p.reason, p.parked_at
        FROM outbox_parked p JOIN events e USING (position)
        WHERE $1::text IS NULL OR p.stream_id = $1 ORDER BY p.position""",
        stream_id,
    )
    return [ParkedEvent(**dict(r)) for r in rows]


async def retry_parked(conn: asyncpg.Connection, stream_id: str | None = None) -> int:
    """Put an aggregate's parked events (or all) back in the outbox; the relay publishes them in order,
    or parks them again if still refused.  Returns how many."""
    return await conn.fetchval(
        """WITH moved AS (DELETE FROM outbox_parked WHERE $1::text IS NULL OR stream_id = $1 RETURNING position),
        queued AS (INSERT INTO outbox (position) SELECT position FROM moved ON CONFLICT DO NOTHING)
        SELECT count(*) FROM moved""",
        stream_id,
    )


async def drop_parked(conn: asyncpg.Connection, stream_id: str | None = None) -> int:
    """Give up publishing an aggregate's parked events (or all): they stay in the event store, and the
    aggregate's later events are published again.  Returns how many."""
    return await conn.fetchval(
        """WITH dropped AS (DELETE FROM outbox_parked WHERE $1::text IS NULL OR stream_id = $1 RETURNING 1)
        SELECT count(*) FROM dropped""",
        stream_id,
    )


async def outbox_backlog(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM outbox")


async def _woken_before_acked(stop: asyncio.Event, woken: asyncio.Event, acks: list[asyncio.Future]) -> bool:
    """True when rows were committed to the outbox before the broker acknowledged all of ``acks``: the relay then
    sends them at once instead of waiting for the acknowledgements first (``bench/propagation.py``: under load a
    command committed while the previous round waited for its acknowledgements waited for them too)."""
    if woken.is_set():
        return True
    acked = asyncio.gather(*acks, return_exceptions=True)  # never cancelled: that would cancel the sends
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
    try:
        await asyncio.wait([acked, *waits], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return woken.is_set() and not acked.done() and not stop.is_set()
