"""Run the profiles service: ``python -m services.profiles`` (settings from MENTORSHIP_* env).

Wiring: the HTTP API, the ``hr.events`` consumer, and the durable timers that
apply forward-dated HR facts when their date arrives.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.profiles.adapters import hr_import_api, scim_api
from services.profiles.adapters.hr_feed import hr_handlers, hr_timer_handlers
from services.profiles.adapters.http import install
from services.profiles.adapters.personal_data import PersonalData
from shared.bus import HR_TOPIC
from shared.clock import Clock, clock_for
from shared.db import migrations_from_package
from shared.eventstore import EventStore
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.serve import serve
from shared.settings import ServiceSettings


def build_app(settings: ServiceSettings, clock: Clock | None = None) -> FastAPI:
    clock = clock or clock_for(settings)
    codec = PersonalData()  # personal fields sealed per person; the store opens them again on every read
    store = EventStore(settings.service_name, clock, codec)
    runtime = ServiceRuntime(
        settings,
        migrations=migrations_from_package("services.profiles.migrations"),
        handlers=hr_handlers(store, clock),
        consumes=[HR_TOPIC],
        timer_handlers=hr_timer_handlers(store, clock),
        clock=clock,
        codec=codec,
        store=store,
    )
    app = create_app(runtime, title="Mentorship · profiles", description="Participants, roles, capacity, consent.")
    install(app)
    hr_import_api.install(app)
    scim_api.install(app)
    return app


if __name__ == "__main__":
    serve(build_app, service_name="profiles", default_port=8001)
