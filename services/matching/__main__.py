"""Run the matching service: ``python -m services.matching`` (settings from MENTORSHIP_* env)."""

from __future__ import annotations

from fastapi import FastAPI

from shared.bus import topic_for
from shared.db import migrations_from_package
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.serve import serve
from shared.settings import ServiceSettings
from services.matching.adapters.http import router
from services.matching.application.mentor_directory import HANDLERS


def build_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(
        settings,
        migrations=migrations_from_package("services.matching.migrations"),
        handlers=HANDLERS,
        consumes=[topic_for("profiles")],
    )
    app = create_app(runtime, title="Mentorship · matching", description="Requests, forwarding, suggestions, bulk runs.")
    app.include_router(router)
    return app


if __name__ == "__main__":
    serve(build_app, service_name="matching", default_port=8002)
