"""The composition root of analytics: settings, the live projector, the reads and the app, built once.

Analytics is projections only: it consumes every topic (``projecting``: the live projector runs beside the
API on one replica at a time, a replay builds a new generation) and serves what they hold (``querying``).
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from services.analytics.adapters import http, login
from services.analytics.adapters.container import AnalyticsContainer
from services.analytics.adapters.profiles_client import ProfilesAggregates
from services.analytics.projecting.generations import SHAPE
from services.analytics.projecting.live import live_projector
from services.analytics.projecting.privacy import inventory
from services.analytics.projecting.snapshots import SnapshotPolicy
from services.analytics.querying.reads import NotServed, Reads
from services.analytics.settings import AnalyticsSettings
from shared.bus import all_event_topics
from shared.db import migrations_from_package
from shared.http import create_app, detail_handler
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from shared.startup_checks import Finding


def build_app(
    settings: ServiceSettings,
    options: AnalyticsSettings | None = None,
    profiles_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``profiles_transport``: how analytics reaches profiles' aggregate (tests: the profiles app in-process)."""
    options = options or AnalyticsSettings()
    snapshots = SnapshotPolicy(limit=options.max_snapshots, days=options.snapshot_days)
    profiles_url = options.profiles_base_url(settings.dev_mode)
    profiles = (
        ProfilesAggregates(settings, profiles_url, options.profiles_timeout_seconds, profiles_transport)
        if profiles_url
        else None
    )

    async def close_profiles(_: ServiceRuntime, stop: asyncio.Event) -> None:
        await stop.wait()
        if profiles is not None:
            await profiles.aclose()

    runtime = ServiceRuntime(
        settings,
        migrations=migrations_from_package("services.analytics.migrations"),
        publishes=False,
        background=[live_projector(snapshots), close_profiles],
        privacy=inventory,
    )
    reads = Reads(
        lambda: runtime.pool,
        shape=SHAPE,
        min_cell=options.min_cell,
        snapshot_days=options.snapshot_days,
        demographics=profiles,
    )
    app = create_app(
        runtime,
        title="Mentorship · analytics",
        description="Read side: relationship timelines and program-evaluation dashboards.",
        tags={
            "timelines": "What happened to a relationship or a participant, across services.",
            "replay": "Rebuilding the projections from the event history into a new generation.",
            "dashboard": "Program-evaluation figures as a page, JSON or CSV, and the page's sign-in.",
        },
    )
    app.state.container = AnalyticsContainer(runtime, reads, all_event_topics(), snapshots)
    app.add_exception_handler(NotServed, detail_handler(503))
    app.include_router(http.router)
    app.state.web_sign_in = login.dashboard_sign_in(settings, lambda: runtime.pool, app.state.token_verifier.issuer)
    app.include_router(login.router)
    return app


def startup_findings() -> list[Finding]:
    """Profiles' demographic aggregate is asked as a system of the institution: with
    ``MENTORSHIP_ANALYTICS_PROFILES_URL`` set, analytics needs its own client at the provider (a development token
    is refused outside development mode). Unset, the breakdowns by demographics say they are not configured."""
    url = AnalyticsSettings().profiles_url
    if not url:
        return []
    service = ServiceSettings(service_name="analytics")
    secret = service.service_client_secret.get_secret_value() if service.service_client_secret else None
    return [
        Finding(setting, "is not set (needed with MENTORSHIP_ANALYTICS_PROFILES_URL)")
        for setting, value in (
            ("MENTORSHIP_SERVICE_CLIENT_ID", service.service_client_id),
            ("MENTORSHIP_SERVICE_CLIENT_SECRET", secret),
        )
        if not value
    ]
