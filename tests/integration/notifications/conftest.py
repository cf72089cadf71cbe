"""The notifications service in-process on real Postgres and the real broker, a real SMTP server and
a real webhook receiver on loopback, and a frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from services.notifications.adapters.runtime import NotificationsRuntime
from services.notifications.bootstrap import build_app
from services.notifications.settings import NotificationsSettings
from shared.clock import FrozenClock
from shared.envelope import Envelope
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields
from shared.inbox import Delivery, IdempotentConsumer
from tests.helpers import topic_of
from tests.integration import service_harness
from tests.integration.notifications.receivers import SmtpServer, WebhookReceiver
from tests.integration.service_harness import START, envelope_of, settings_for

SECRET = "institution-shared-secret"
DIRECTOR = "director-1"


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
class Service(service_harness.Service):
    """Notifications with its SMTP server and webhook receiver; events reach it on the broker (``publish``)
    or handed straight to its consumer (``consume``)."""

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
            await consumer.process(Delivery(e.to_bytes(), topic_of(e), 0, 0, e.subject.encode())) for e in envelopes
        ]

    async def deliver(self) -> int:
        return await self.runtime.worker.deliver_due()

    async def statuses(self) -> dict[tuple[str, str, str], str]:
        rows = await self.runtime.pool.fetch("SELECT recipient_id, channel, template, status FROM intents")
        return {(r["recipient_id"], r["channel"], r["template"]): r["status"] for r in rows}

    async def published(self, event_type: str) -> list[dict]:
        return await self.opened(
            "SELECT stream_id, event_type, data FROM events WHERE event_type = $1 ORDER BY position", event_type
        )


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


@asynccontextmanager
async def running(
    dsn: str,
    bootstrap: str,
    smtp: SmtpServer,
    hooks: WebhookReceiver,
    *,
    run_worker: bool,
    **overrides: Any,
) -> AsyncIterator[Service]:
    """Notifications started on a fresh database; ``overrides`` change its options."""
    clock = FrozenClock(START)
    opts = options(smtp_port=smtp.port, webhook_url=hooks.url, webhook_secret=SECRET, **overrides)
    app = build_app(settings_for("notifications", dsn, bootstrap), clock, opts, run_worker=run_worker)
    async with service_harness.running(
        Service, app, clock, bootstrap, base_url="http://notifications", smtp=smtp, hooks=hooks
    ) as service:
        yield service


@pytest.fixture
async def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def hooks():
    async with WebhookReceiver() as receiver:
        yield receiver


async def _service(fresh_dsn, broker, smtp, hooks, run_worker: bool):
    async with running(fresh_dsn, broker.bootstrap, smtp, hooks, run_worker=run_worker) as service:
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
