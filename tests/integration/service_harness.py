"""One service in-process on real Postgres and the real broker, with a frozen clock: what the services'
integration conftests share.

``running`` builds nothing itself: a conftest builds its service's app (``build_app`` with its own options) and
hands it over; ``running`` starts the app's lifespan (pool, migrations, consumers, relay) and yields a ``Service``
with an HTTP client on the app over ASGI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from shared.auth import Role, mint_token
from shared.clock import FrozenClock
from shared.envelope import Envelope
from shared.events import Event
from shared.runtime import ServiceRuntime
from shared.settings import DEV_JWT_SECRET, ServiceSettings
from shared.timers import TimerWheel
from tests import helpers
from tests.helpers import eventually, publish

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def auth(subject: str, *roles: Role) -> dict[str, str]:
    """The headers of a request by ``subject`` in ``roles`` (a mentee when none is named)."""
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, subject, list(roles) or [Role.mentee])}"}


def envelope_of(event: Event, subject: str, source: str | None = None) -> Envelope:
    """``event`` as published at ``START`` by ``source`` (by default its owner, ``/services/<owner>``)."""
    return helpers.envelope_of(event, subject, source, time=START)


def subject_of(event: Event) -> str:
    """The id of the aggregate the event is about: a participant, a relationship or an employee."""
    return getattr(event, "participant_id", None) or getattr(event, "relationship_id", None) or event.employee_id


def settings_for(service_name: str, dsn: str, bootstrap: str) -> ServiceSettings:
    """A service's settings for tests: quick consumer sessions and relay, timers fired by the test only."""
    return ServiceSettings(
        service_name=service_name,
        pg_dsn=dsn,
        kafka_bootstrap=bootstrap,
        dev_mode=True,
        consumer_session_timeout_ms=2_000,
        timer_poll_seconds=3_600,
        relay_poll_seconds=0.1,
    )


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FrozenClock
    bootstrap: str

    @property
    def runtime(self) -> ServiceRuntime:
        return self.app.state.runtime

    async def fire_timers(self) -> int:
        return await TimerWheel(self.runtime.pool, self.runtime.timer_handlers, self.clock).fire_due()

    async def opened(self, sql: str, *args: Any) -> list[dict]:
        """The payloads of stored events (``sql`` selects ``stream_id, event_type, data``), personal fields opened
        by the store's codec as the service reads them."""
        async with self.runtime.pool.acquire() as conn:
            rows = await conn.fetch(sql, *args)
            codec = self.runtime.store.codec
            return [await codec.open(conn, r["stream_id"], r["event_type"], r["data"]) for r in rows]

    async def event_types(self, stream_id: str) -> list[str]:
        rows = await self.runtime.pool.fetch(
            "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY version", stream_id
        )
        return [r["event_type"] for r in rows]

    async def publish(self, *envelopes: Envelope) -> None:
        """On the real broker, each on the topic of the service that published it."""
        await publish(self.bootstrap, *envelopes)

    async def feed(self, *events: Event) -> list[Envelope]:
        """Publish each event on its owner's topic and wait until this service has handled every one."""
        envelopes = [envelope_of(e, subject_of(e)) for e in events]
        await self.publish(*envelopes)
        ids = [e.id for e in envelopes]

        async def handled() -> bool:
            return await self.runtime.pool.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", ids
            ) == len(ids)

        await eventually(handled, timeout=40)
        return envelopes


S = TypeVar("S", bound=Service)


@asynccontextmanager
async def running(
    kind: type[S], app: FastAPI, clock: FrozenClock, bootstrap: str, *, base_url: str, timeout: float = 30, **more: Any
) -> AsyncIterator[S]:
    """``app`` started (its lifespan) and a ``kind`` of ``Service`` on it; ``more`` are the kind's own fields."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=timeout) as client:
            yield kind(app, client, clock, bootstrap, **more)
