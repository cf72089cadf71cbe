"""Everything a service process runs beside its HTTP API, started and stopped with it.

One FastAPI app and one FastStream broker share the lifespan (FastStream's
FastAPI plugin is deprecated): pool + migrations, topics, the outbox relay
and the idempotent consumers, each watched (``shared.watchdog``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker

from shared import tracing
from shared.bus import dead_letter_topic, ensure_topics, new_broker, new_producer, topic_for
from shared.clock import Clock, SystemClock
from shared.db import Migration, create_pool, migrate, shared_migrations
from shared.envelope import Envelope
from shared.events.base import Event
from shared.eventstore import EventStore, PayloadCodec
from shared.inbox import Handler, IdempotentConsumer
from shared.keysource import BusOpener, KeySource, PlainHttp, ServiceTokens, key_client, parse_sources
from shared.logging import configure_logging, get_logger
from shared.outbox import OutboxRelay
from shared.privacy import Inventory, receipted
from shared.sealing import Sealing
from shared.settings import ServiceSettings
from shared.subscription import subscribe
from shared.timers import TimerHandler, TimerWheel
from shared.watchdog import ConsumerWatchdog

log = get_logger(__name__)

BackgroundTask = Callable[["ServiceRuntime", asyncio.Event], Awaitable[None]]
"""Runs beside the API once the pool exists; returns when the event is set."""


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    migrations: list[Migration] = field(default_factory=list)
    handlers: dict[str, Handler] = field(default_factory=dict)
    consumes: list[str] = field(default_factory=list)
    timer_handlers: dict[str, TimerHandler] = field(default_factory=dict)
    background: list[BackgroundTask] = field(default_factory=list)
    publishes: bool = True
    uses_broker: bool = True  # False: no topics, producer or consumers (the portal: pages and HTTP calls only)
    clock: Clock = field(default_factory=SystemClock)
    codec: PayloadCodec | None = None
    consumer_batch_size: int | None = None  # None: the setting (``ServiceSettings.consumer_batch_size``); 1: one by one
    consumer_fetch_max_wait_ms: int | None = None  # None: the setting (``ServiceSettings.consumer_fetch_max_wait_ms``)

    pool: asyncpg.Pool | None = None
    producer: AIOKafkaProducer | None = None
    broker: KafkaBroker | None = None
    relay: OutboxRelay | None = None
    store: EventStore | None = None
    watchdog: ConsumerWatchdog | None = None
    opener: BusOpener | None = None
    privacy: Inventory | None = None
    """Where the service keeps a person's data (``shared.privacy``): ``GET /privacy/{id}`` and erasure receipts."""
    key_client: httpx.AsyncClient | None = None
    key_plain: PlainHttp | None = None
    """The key requests' own HTTP/1.1 connections when the key client reaches its producers over the network."""
    key_transport: httpx.AsyncBaseTransport | None = None
    """How the key client reaches its producers: the network (None), or an in-process app in a test's stack."""

    def __post_init__(self) -> None:
        if self.store is not None:  # the one size setting, also for a store a composition root built
            self.store.max_event_bytes = self.settings.max_event_bytes

    @property
    def service(self) -> str:
        return self.settings.service_name

    @property
    def group(self) -> str:
        return self.service

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ServiceRuntime]:
        s = self.settings
        configure_logging(self.service, s.log_level, s.log_json)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        watching: asyncio.Task[None] | None = None
        self.pool = await create_pool(s.pg_dsn)
        try:
            applied = await migrate(self.pool, shared_migrations() + self.migrations)
            log.info("database ready", migrations_applied=applied)
            if self.store is None:  # a composition root passes the one it built; otherwise build it here
                self.store = EventStore(self.service, self.clock, self.codec, max_event_bytes=s.max_event_bytes)
            topics = [topic_for(self.service)] if self.publishes else []
            if self.handlers:
                topics += [*self.consumes, dead_letter_topic(self.group)]
            if self.uses_broker:
                await ensure_topics(s, topics, s.topic_partitions, max_event_bytes=s.max_event_bytes)
                self.producer = new_producer(s, max_event_bytes=s.max_event_bytes, linger_ms=s.producer_linger_ms)
                await self.producer.start()
            tasks = self._start_tasks(stop)
            if self.handlers:
                await self._start_consumer()
                watching = asyncio.create_task(self.watchdog.run(stop), name="consumer-watchdog")
            log.info("service started", topics=topics)
            yield self
        finally:
            stop.set()
            if watching is not None:  # before the broker stops: a restart in progress must not start it again
                watching.cancel()
                await asyncio.gather(watching, return_exceptions=True)
            if self.broker is not None:
                await self.broker.stop()
            for task in tasks:
                await asyncio.wait_for(task, timeout=10)
            if self.producer is not None:
                await self.producer.stop()
            if self.key_client is not None:
                await self.key_client.aclose()
            if self.key_plain is not None:
                await self.key_plain.aclose()
            await self.pool.close()
            tracing.shutdown()
            log.info("service stopped")

    def _start_tasks(self, stop: asyncio.Event) -> list[asyncio.Task[None]]:
        """The outbox relay, the timer wheel and the service's own background tasks, until ``stop``."""
        s, tasks = self.settings, []
        if self.publishes:
            self.relay = OutboxRelay(
                s.pg_dsn, self.store, self.producer, batch_size=s.relay_batch_size, poll_seconds=s.relay_poll_seconds
            )
            tasks.append(asyncio.create_task(self.relay.run(stop), name="outbox-relay"))
        if self.timer_handlers:
            wheel = TimerWheel(self.pool, self.timer_handlers, self.clock, poll_seconds=s.timer_poll_seconds)
            tasks.append(asyncio.create_task(wheel.run(stop), name="timers"))
        for task in self.background:
            tasks.append(asyncio.create_task(task(self, stop), name=getattr(task, "__name__", "background")))
        return tasks

    async def _start_consumer(self) -> None:
        """The idempotent consumer of ``consumes``, on a FastStream broker with manual acknowledgement."""
        s = self.settings
        self.broker = new_broker(s)
        self.opener = BusOpener(self._key_source())
        consumer = IdempotentConsumer(
            self.pool,
            self.group,
            self._with_receipt(self._with_erasure(self.handlers)),
            self.producer,
            max_attempts=s.consumer_max_attempts,
            backoff_seconds=s.consumer_backoff_seconds,
            opener=self.opener.open,
            open_many=self.opener.open_many,
        )
        subscription = subscribe(
            self.broker,
            consumer,
            self.consumes,
            session_timeout_ms=s.consumer_session_timeout_ms,
            batch_size=self.consumer_batch_size or s.consumer_batch_size,
            fetch_max_wait_ms=self.consumer_fetch_max_wait_ms or s.consumer_fetch_max_wait_ms,
        )
        self.watchdog = ConsumerWatchdog(
            subscription,
            broker=s,
            session_timeout_ms=s.consumer_session_timeout_ms,
            can_work=self._can_consume,
        )
        await self.broker.start()

    def _key_source(self) -> KeySource | None:
        """The producers whose sealed fields this consumer opens (``MENTORSHIP_KEY_SOURCES``), if any."""
        sources = parse_sources(self.settings.key_sources)
        if not sources:
            return None
        self.key_client = key_client(self.key_transport)
        tokens = ServiceTokens(self.settings, self.key_client)
        self.key_plain = PlainHttp() if self.key_transport is None else None
        return KeySource(
            sources, tokens, self.key_client, cache_seconds=self.settings.key_cache_seconds, plain=self.key_plain
        )

    def _with_erasure(self, handlers: dict[str, Handler]) -> dict[str, Handler]:
        """A person's erasure also shreds the keys this service sealed their data with, after the service's own
        steps and in their transaction, and forgets the producers' keys it was given."""
        codec = self.store.codec if self.store is not None else None
        if not handlers or not isinstance(codec, Sealing):
            return handlers
        own = handlers.get("ParticipantErased")
        opener = self.opener

        async def erased(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
            if own is not None:
                await own(conn, event, envelope)
            person = event.participant_id  # type: ignore[attr-defined]
            if self.publishes:
                await codec.shred(conn, person)
            if opener is not None:
                opener.forget(person)

        return {**handlers, "ParticipantErased": erased}

    def _with_receipt(self, handlers: dict[str, Handler]) -> dict[str, Handler]:
        """The erasure receipt around the whole ``ParticipantErased`` handler, shredding included."""
        return handlers if self.privacy is None else receipted(handlers, self.privacy)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """``shared.ports.Transactions`` on this runtime's pool, which exists only once the service runs:
        a composition root hands ``runtime.transaction`` to its use cases before the pool is there."""
        async with self.pool.acquire() as conn, conn.transaction():
            await tracing.begin(conn)  # the trace the outbox rows of this transaction carry (when tracing is on)
            yield conn

    async def migrate_only(self) -> list[str]:
        """Apply pending migrations and return (a deployment's migration step)."""
        pool = await create_pool(self.settings.pg_dsn, min_size=1, max_size=1)
        try:
            return await migrate(pool, shared_migrations() + self.migrations)
        finally:
            await pool.close()

    async def _broker_answers(self) -> bool:
        if self.producer is None:
            return False
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=2)
            return True
        except (TimeoutError, KafkaError, OSError):
            return False

    async def _database_answers(self) -> bool:
        if self.pool is None:
            return False
        try:
            async with self.pool.acquire(timeout=2) as conn:
                return await conn.fetchval("SELECT true")
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False

    async def _can_consume(self) -> bool:
        """The watchdog's probe: a consumer can only be to blame while the broker and the database answer."""
        return await self._broker_answers() and await self._database_answers()

    async def ready(self) -> dict[str, bool]:
        """Database and broker answer; and, where the service consumes, its consumer is not stuck (the watchdog)."""
        checks = {"database": await self._database_answers()}
        if self.uses_broker:
            checks["broker"] = await self._broker_answers()
        if self.watchdog is not None:
            checks["consumer"] = self.watchdog.ready
        return checks
