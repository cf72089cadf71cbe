"""Run the analytics service (read side): ``python -m services.analytics`` (settings from MENTORSHIP_* env).

Wiring: the HTTP API and the projector that keeps the live generation of the
projections in step with every topic.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from shared.bus import all_event_topics, ensure_topics
from shared.db import migrations_from_package
from shared.http import create_app
from shared.logging import get_logger
from shared.runtime import ServiceRuntime
from shared.serve import serve
from shared.settings import ServiceSettings
from services.analytics.adapters.http import router
from services.analytics.application.generations import ensure_live, live_generation
from services.analytics.application.projector import Projector

log = get_logger(__name__)


async def project_live(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    """Keep the live generation current; a failed round (broker or database away) is retried."""
    settings = runtime.settings
    topics = all_event_topics()
    while not stop.is_set():
        try:
            await ensure_topics(settings.kafka_bootstrap, topics, settings.topic_partitions)
            generation = await ensure_live(runtime.pool)
            swapped = asyncio.Event()
            watcher = asyncio.create_task(_until_swapped(runtime, generation, stop, swapped))
            try:
                await Projector(runtime.pool, settings.kafka_bootstrap, generation, topics).run(swapped)
            finally:
                watcher.cancel()
        except Exception as exc:  # noqa: BLE001 - the read side must outlive outages
            log.warning("projector stopped; restarting", error=repr(exc))
            try:
                await asyncio.wait_for(stop.wait(), timeout=2)
            except asyncio.TimeoutError:
                pass


async def _until_swapped(runtime: ServiceRuntime, generation: int, stop: asyncio.Event, swapped: asyncio.Event) -> None:
    """Sets ``swapped`` when the service stops or a replay made another generation live."""
    while not stop.is_set() and await live_generation(runtime.pool) == generation:
        try:
            await asyncio.wait_for(stop.wait(), timeout=1)
        except asyncio.TimeoutError:
            pass
    swapped.set()


def build_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(
        settings,
        migrations=migrations_from_package("services.analytics.migrations"),
        publishes=False,
        background=[project_live],
    )
    app = create_app(runtime, title="Mentorship · analytics",
                     description="Read side: relationship timelines and program-evaluation dashboards.")
    app.include_router(router)
    return app


if __name__ == "__main__":
    serve(build_app, service_name="analytics", default_port=8005)
