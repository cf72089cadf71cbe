"""Run the matching service: ``python -m services.matching`` (settings from MENTORSHIP_* env).

Wiring: the HTTP API, the consumer of profiles', HR's and relationships' events, and the response-deadline
timers, all on one clock (injectable for tests).
"""

from __future__ import annotations

from fastapi import FastAPI

from services.matching.adapters.bus import CONSUMES, bus_handlers
from services.matching.adapters.http import install
from services.matching.adapters.postgres_requests import PostgresRequestIndex, PostgresSlots
from services.matching.application.deadlines import timer_handlers
from services.matching.application.deps import Deps
from services.matching.application.request_repository import request_repository
from services.matching.settings import MatchingSettings
from shared.clock import Clock, clock_for
from shared.db import migrations_from_package
from shared.eventstore import EventStore
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.serve import serve
from shared.settings import ServiceSettings
from shared.timers import TimerBook


def build_app(
    settings: ServiceSettings, clock: Clock | None = None, options: MatchingSettings | None = None
) -> FastAPI:
    clock = clock or clock_for(settings)
    options = options or MatchingSettings()
    store = EventStore(settings.service_name, clock)
    deps = Deps(
        store=store,
        requests=request_repository(store, PostgresSlots(), PostgresRequestIndex(), TimerBook()),
        clock=clock,
        default_response_days=options.response_days,
        bulk_candidates=options.bulk_candidates,
    )
    runtime = ServiceRuntime(
        settings,
        migrations=migrations_from_package("services.matching.migrations"),
        handlers=bus_handlers(deps),
        consumes=CONSUMES,
        timer_handlers=timer_handlers(deps),
        clock=clock,
        store=store,
    )
    app = create_app(
        runtime, title="Mentorship · matching", description="Requests, forwarding, suggestions, bulk runs."
    )
    install(app, deps)
    return app


if __name__ == "__main__":
    serve(build_app, service_name="matching", default_port=8002)
