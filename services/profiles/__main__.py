"""Run the profiles service: ``python -m services.profiles`` (settings from MENTORSHIP_* env)."""

from __future__ import annotations

from fastapi import FastAPI

from shared.db import migrations_from_package
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.serve import serve
from shared.settings import ServiceSettings
from services.profiles.adapters.http import router


def build_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=migrations_from_package("services.profiles.migrations"))
    app = create_app(runtime, title="Mentorship · profiles", description="Participants, roles, capacity, consent.")
    app.include_router(router)
    return app


if __name__ == "__main__":
    serve(build_app, service_name="profiles", default_port=8001)
