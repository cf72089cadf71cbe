"""The notifications service in-process on real Postgres and the real broker, a real SMTP server and
a real webhook receiver on loopback, and a frozen clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.notifications.adapters.runtime import NotificationsRuntime
from services.notifications.bootstrap import build_app
from services.notifications.settings import NotificationsSettings
from shared.auth import Role, mint_token
from shared.bus import new_producer, topic_for
from shared.clock import FrozenClock
from shared.envelope import Envelope
from shared.events import Event
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields
from shared.inbox import Delivery, IdempotentConsumer
from shared.settings import DEV_JWT_SECRET, ServiceSettings
from shared.timers import TimerWheel
from tests.integration.notifications.receivers import SmtpServer, WebhookReceiver

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "institution-shared-secret"
DIRECTOR = "director-1"


def auth(subject: str, *roles: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, subject, list(roles) or [Role.mentee])}"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def envelope_of(event: Event, subject: str) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source=f"/services/{event.owner}",
        type=event.type_name(),
        time=START,
        subject=subject,
        correlationid=uuid.uuid4(),
        sequence=1,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
    )


def person(participant_id: str, name: str, *, mentor: bool = False) -> Envelope:
    fields: dict[str, Any] = {
        "participant_id": participant_id,
        "name": name,
        "email": f"{participant_id}@uni.example",
        "profile": ProfileFields(biography="", specialty="cardiology", career_stage="senior" if mentor else "trainee"),
    }
    event = MentorRegistered(capacity=2, **fields) if mentor else MenteeRegistered(**fields)
    return envelope_of(event, participant_id)


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FrozenClock
    bootstrap: str
    smtp: SmtpServer
    hooks: WebhookReceiver

    @property
    def runtime(self) -> NotificationsRuntime:
        return self.app.state.runtime

    @property
    def mailbox(self):
        return self.smtp.mailbox

    async def consume(self, *envelopes: Envelope) -> list[str]:
        """Hand events to the service's idempotent consumer as the broker subscription would."""
        consumer = IdempotentConsumer(
            self.runtime.pool, self.runtime.group, self.runtime.handlers, self.runtime.producer
        )
        return [
            await consumer.process(
                Delivery(e.to_bytes(), topic_for(e.source.rsplit("/", 1)[-1]), 0, 0, e.subject.encode())
            )
            for e in envelopes
        ]

    async def publish(self, *envelopes: Envelope) -> None:
        producer = new_producer(self.bootstrap)
        await producer.start()
        try:
            for e in envelopes:
                await producer.send_and_wait(
                    topic_for(e.source.rsplit("/", 1)[-1]), value=e.to_bytes(), key=e.subject.encode()
                )
        finally:
            await producer.stop()

    async def fire_timers(self) -> int:
        return await TimerWheel(self.runtime.pool, self.runtime.timer_handlers, self.clock).fire_due()

    async def deliver(self) -> int:
        return await self.runtime.worker.deliver_due()

    async def statuses(self) -> dict[tuple[str, str, str], str]:
        rows = await self.runtime.pool.fetch("SELECT recipient_id, channel, template, status FROM intents")
        return {(r["recipient_id"], r["channel"], r["template"]): r["status"] for r in rows}

    async def published(self, event_type: str) -> list[dict]:
        rows = await self.runtime.pool.fetch(
            "SELECT data FROM events WHERE event_type = $1 ORDER BY position", event_type
        )
        return [r["data"] for r in rows]


def options(**overrides: Any) -> NotificationsSettings:
    return NotificationsSettings(
        **{
            "director_ids": [DIRECTOR],
            "director_emails": ["office@uni.example"],
            "retry_first_seconds": 30,
            "max_attempts": 3,
            "delivery_poll_seconds": 0.2,
            **overrides,
        }
    )


async def running_service(
    fresh_dsn: str,
    bootstrap: str,
    smtp: SmtpServer,
    hooks: WebhookReceiver,
    *,
    run_worker: bool,
    channels=None,
    **overrides: Any,
):
    clock = FrozenClock(START)
    settings = ServiceSettings(
        service_name="notifications",
        pg_dsn=fresh_dsn,
        kafka_bootstrap=bootstrap,
        consumer_session_timeout_ms=2_000,
        timer_poll_seconds=3_600,
        relay_poll_seconds=0.1,
    )
    opts = options(smtp_port=smtp.port, webhook_url=hooks.url, webhook_secret=SECRET, **overrides)
    app = build_app(settings, clock, opts, channels=channels, run_worker=run_worker)
    return app, clock


@pytest.fixture
async def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def hooks():
    async with WebhookReceiver() as receiver:
        yield receiver


async def _service(fresh_dsn, broker, smtp, hooks, run_worker: bool):
    app, clock = await running_service(fresh_dsn, broker.bootstrap, smtp, hooks, run_worker=run_worker)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications", timeout=30) as client:
            service = Service(app, client, clock, broker.bootstrap, smtp, hooks)
            await service.consume(person(DIRECTOR, "Dr Dana Director", mentor=True))
            yield service


@pytest.fixture
async def service(fresh_dsn, broker, smtp, hooks):
    """Delivery driven by the test (``service.deliver()``), events handed to the consumer directly."""
    async for s in _service(fresh_dsn, broker, smtp, hooks, run_worker=False):
        yield s


@pytest.fixture
async def live_service(fresh_dsn, broker, smtp, hooks):
    """Consumers on the real broker and the delivery worker running, as in production."""
    async for s in _service(fresh_dsn, broker, smtp, hooks, run_worker=True):
        yield s


def days(n: float) -> timedelta:
    return timedelta(days=n)
