"""Profiles on a fresh database: its migrations, a frozen clock, and the app as bootstrap.py wires it (no broker)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from services.profiles.adapters.container import ProfilesContainer
from services.profiles.bootstrap import build_app
from shared.bus import dead_letter_topic, ensure_topics, new_broker, new_producer
from shared.clock import FrozenClock
from shared.db import migrate, migrations_from_package
from shared.envelope import Envelope
from shared.eventstore import EventStore
from shared.inbox import IdempotentConsumer
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from shared.subscription import subscribe
from tests.helpers import eventually


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))


@pytest_asyncio.fixture
async def profiles_pool(pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pool, migrations_from_package("services.profiles.migrations"))
    return pool


@pytest.fixture
def app(profiles_pool: asyncpg.Pool, clock: FrozenClock, fresh_dsn: str) -> FastAPI:
    """The profiles app, its runtime given the test's pool (no lifespan, so no broker)."""
    app = build_app(ServiceSettings(service_name="profiles", pg_dsn=fresh_dsn), clock=clock)
    app.state.runtime.pool = profiles_pool
    return app


@pytest.fixture
def container(app: FastAPI) -> ProfilesContainer:
    return app.state.container


@pytest.fixture
def store(container: ProfilesContainer) -> EventStore:
    """The one event store the app built, with its personal-data codec."""
    return container.participants.store


@pytest_asyncio.fixture
async def api(app: FastAPI):
    """The profiles app over ASGI."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://profiles") as client:
        yield client


class HrFeed:
    """Profiles' HR consumer on its own topic of the real broker, with the handlers (and timer handlers)
    the service wires."""

    def __init__(self, bootstrap: str, pool: asyncpg.Pool, runtime: ServiceRuntime, topic: str) -> None:
        self.bootstrap, self.pool, self.topic = bootstrap, pool, topic
        self.handlers, self.timer_handlers = runtime.handlers, runtime.timer_handlers
        self.group = f"profiles-{uuid.uuid4().hex[:8]}"

    async def start(self) -> None:
        await ensure_topics(self.bootstrap, [self.topic, dead_letter_topic(self.group)], partitions=1)
        self.producer = new_producer(self.bootstrap)
        await self.producer.start()
        consumer = IdempotentConsumer(
            self.pool,
            self.group,
            self.handlers,
            self.producer,
            max_attempts=2,
            backoff_seconds=0.01,
        )
        self.broker = new_broker(self.bootstrap)
        subscribe(self.broker, consumer, [self.topic], session_timeout_ms=2_000)
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.producer.stop()

    async def send(self, *envelopes: Envelope | bytes) -> None:
        for envelope in envelopes:
            value = envelope if isinstance(envelope, bytes) else envelope.to_bytes()
            key = b"" if isinstance(envelope, bytes) else envelope.subject.encode()
            await self.producer.send_and_wait(self.topic, value=value, key=key)

    async def handled(self) -> int:
        return await self.pool.fetchval("SELECT count(*) FROM inbox WHERE consumer_group = $1", self.group)

    async def until_handled(self, count: int) -> None:
        async def enough() -> bool:
            return await self.handled() >= count

        await eventually(enough, timeout=30)


@pytest_asyncio.fixture
async def hr_feed(broker, profiles_pool, app, topic_name):
    feed = HrFeed(broker.bootstrap, profiles_pool, app.state.runtime, topic_name)
    await feed.start()
    yield feed
    await feed.stop()
