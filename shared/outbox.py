"""Outbox relay: publishes committed events to the service's topic, in order, at least once.

Exactly one relay per service publishes at a time: it holds a session-level
Postgres advisory lock on a dedicated connection.  Other replicas stand by and
take over within ``standby_poll_seconds`` when that connection goes away.

Each round publishes the oldest unpublished rows (lowest positions first),
waits for the broker to acknowledge them all, then deletes them from the
outbox.  A crash between the two republishes the batch; consumers are
idempotent by event id.  Rows are found by presence in the outbox, never by
"position greater than the last one published", so a transaction that commits
late with a lower position is still published.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.bus import message_headers, topic_for
from shared.eventstore import EventStore
from shared.logging import get_logger
from shared.metrics import outbox_backlog as backlog_gauge
from shared.metrics import outbox_published, relay_latency

log = get_logger(__name__)

# Limit the outbox first: joining first would walk the ever-growing events index on every batch.
_PENDING = """
SELECT e.position, e.event_id, e.stream_id, e.version, e.event_type, e.schema_version,
       e.occurred_at, e.correlation_id, e.causation_id, e.data::text AS data
FROM (SELECT position FROM outbox WHERE position <> ALL($2::bigint[]) ORDER BY position LIMIT $1) o
JOIN events e USING (position)
ORDER BY e.position
"""


def relay_lock_key(service: str) -> int:
    return zlib.crc32(f"outbox-relay:{service}".encode())


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
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
    ) -> None:
        self.dsn = dsn
        self.store = store
        self.producer = producer
        self.topic = topic or topic_for(store.service)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.standby_poll_seconds = standby_poll_seconds
        self.lock_key = relay_lock_key(store.service)
        self.stats = RelayStats()

    async def run(self, stop: asyncio.Event) -> None:
        """Stand by for the lock, then publish until ``stop`` is set; survives lost connections."""
        while not stop.is_set():
            try:
                await self._run_once(stop)
            except (OSError, KafkaError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.stats.active = False
                self.stats.last_error = repr(exc)
                log.warning("outbox relay interrupted; retrying", error=repr(exc))
                await _sleep_or_stop(stop, self.standby_poll_seconds)

    async def _run_once(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            while not stop.is_set():
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                    break
                await _sleep_or_stop(stop, self.standby_poll_seconds)
            else:
                return
            self.stats.active = True
            log.info("outbox relay active", topic=self.topic)
            await self._publish_until_stopped(conn, stop)
        finally:
            self.stats.active = False
            await conn.close()

    async def _publish_until_stopped(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        """Pipelined rounds: the next batch is read and handed to the producer while the
        previous one waits for its acknowledgements; rows are forgotten only once acknowledged."""
        in_flight: _Batch | None = None
        while not stop.is_set():
            batch = await self._send_batch(conn, exclude=in_flight.positions if in_flight else [])
            if in_flight is not None:
                await self._settle(conn, in_flight)
            in_flight = batch
            if len(batch.positions) < self.batch_size:
                if in_flight.positions:
                    await self._settle(conn, in_flight)
                in_flight = None
                await _sleep_or_stop(stop, self.poll_seconds)
        if in_flight is not None:
            await self._settle(conn, in_flight)

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        """One round: publish up to a batch of unpublished events and forget them once acknowledged."""
        batch = await self._send_batch(conn, exclude=[])
        await self._settle(conn, batch)
        return len(batch.positions)

    async def _send_batch(self, conn: asyncpg.Connection, exclude: list[int]) -> _Batch:
        rows = await conn.fetch(_PENDING, self.batch_size, exclude)
        acks = []
        for row in rows:
            payload = row["data"]
            if self.store.codec is not None:
                opened = await self.store.codec.open(conn, row["stream_id"], row["event_type"], json.loads(payload))
                payload = json.dumps(opened)
            acks.append(
                await self.producer.send(
                    self.topic,
                    value=self.store.envelope_bytes(row, payload),
                    key=row["stream_id"].encode(),
                    headers=message_headers(row["event_type"], row["event_id"]),
                )
            )
        return _Batch([r["position"] for r in rows], acks, [r["occurred_at"] for r in rows])

    async def _settle(self, conn: asyncpg.Connection, batch: _Batch) -> None:
        if not batch.positions:
            return
        await asyncio.gather(*batch.acks)
        acknowledged = datetime.now(UTC)
        await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])", batch.positions)
        self.stats.published += len(batch.positions)
        self.stats.batches += 1
        service = self.store.service
        outbox_published.labels(service).inc(len(batch.positions))
        for occurred_at in batch.occurred_at:
            relay_latency.labels(service).observe(max((acknowledged - occurred_at).total_seconds(), 0.0))
        if len(batch.positions) < self.batch_size:
            backlog_gauge.labels(service).set(0)
        else:
            backlog_gauge.labels(service).set(await outbox_backlog(conn))


@dataclass
class _Batch:
    positions: list[int]
    acks: list[asyncio.Future]
    occurred_at: list[datetime]


async def requeue_all(conn: asyncpg.Connection) -> int:
    """Queue every stored event for publishing again (a broker that lost its history is refilled
    in position order; consumers recognise what they already handled by event id)."""
    status = await conn.execute("INSERT INTO outbox (position) SELECT position FROM events ON CONFLICT DO NOTHING")
    return int(status.split()[-1])


async def outbox_backlog(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM outbox")


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
