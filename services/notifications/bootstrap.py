"""The composition root: everything the notifications service is made of, built once.

The clock, the event store, the Postgres ports, the channels (SMTP with pooled sessions, webhook) and
templates, the consumed-event and timer tables, the runtime with the delivery worker on its own pool,
and the FastAPI app holding the container (``Deps``) as ``app.state.container``.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.notifications.adapters.bus import bus_handlers
from services.notifications.adapters.channels import EmailChannel, WebhookChannel
from services.notifications.adapters.http import install
from services.notifications.adapters.postgres import (
    PoolTransactions,
    PostgresContacts,
    PostgresIntents,
    PostgresPreferences,
    PostgresRelationships,
    PostgresRequests,
)
from services.notifications.adapters.privacy import inventory
from services.notifications.adapters.runtime import NotificationsRuntime
from services.notifications.adapters.templates import Templates
from services.notifications.adapters.timers import timer_handlers
from services.notifications.adapters.worker import DeliveryWorker
from services.notifications.application.deps import Deps
from services.notifications.domain.outgoing import Channel
from services.notifications.settings import NotificationsSettings
from shared import privacy
from shared.bus import topic_for
from shared.clock import Clock, clock_for
from shared.db import migrations_from_package
from shared.eventstore import EventStore
from shared.http import create_app
from shared.settings import ServiceSettings
from shared.startup_checks import Finding
from shared.timers import TimerBook

CONSUMES = ("matching", "relationships", "profiles")


def build_app(
    settings: ServiceSettings,
    clock: Clock | None = None,
    options: NotificationsSettings | None = None,
    *,
    channels: dict[str, Channel] | None = None,
    run_worker: bool = True,
) -> FastAPI:
    """The service as one app; ``channels`` replace e-mail and webhook (tests), ``run_worker=False`` leaves
    delivery to the caller (``app.state.runtime.worker.deliver_due()``)."""
    clock = clock or clock_for(settings)
    options = options or NotificationsSettings()
    store = EventStore(settings.service_name, clock)
    deps = build_deps(store, clock, options, PoolTransactions(lambda: runtime.pool))  # bound once it has started
    channels = channels or default_channels(options)
    templates = Templates(options.templates_dir, options.program)
    runtime = NotificationsRuntime(
        settings,
        privacy=inventory,
        migrations=migrations_from_package("services.notifications.migrations"),
        handlers=privacy.guarded(bus_handlers(deps)).inbox_handlers(),
        consumes=[topic_for(service) for service in CONSUMES],
        timer_handlers=timer_handlers(deps),
        clock=clock,
        store=store,
        worker_factory=lambda pool: DeliveryWorker.on_pool(pool, deps, channels, templates),
        worker_connections=options.delivery_batches + 3,  # LISTEN, claims, lease checks, batches recording
        run_worker=run_worker,
        consumer_batch_size=options.consumer_batch,
        consumer_fetch_max_wait_ms=options.consumer_fetch_wait_ms,
    )
    app = create_app(
        runtime,
        title="Mentorship · notifications",
        description="Introductions, forwarded requests, nudges and reminders — delivered once per cause.",
        tags={"preferences": "How a participant wants to be notified."},
    )
    install(app, deps)
    return app


def build_deps(store: EventStore, clock: Clock, options: NotificationsSettings, transactions: PoolTransactions) -> Deps:
    return Deps(
        store=store,
        clock=clock,
        options=options,
        transactions=transactions,
        contacts=PostgresContacts(),
        preferences=PostgresPreferences(),
        requests=PostgresRequests(),
        relationships=PostgresRelationships(),
        intents=PostgresIntents(),
        timers=TimerBook(),
    )


def default_channels(options: NotificationsSettings) -> dict[str, Channel]:
    channels: dict[str, Channel] = {"email": EmailChannel(options)}
    if options.webhook_url:
        channels["webhook"] = WebhookChannel(options.webhook_url, options.webhook_secret, httpx.AsyncClient(timeout=10))
    return channels


def startup_findings() -> list[Finding]:
    """The webhook channel's settings (``shared.startup_checks``), when it is configured."""
    return NotificationsSettings().webhook_findings()
