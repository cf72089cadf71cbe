"""Run the analytics service (read side): ``python -m services.analytics`` (settings from MENTORSHIP_* env).

Wiring: the HTTP API and the projector that keeps the live generation of the
projections in step with every topic.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.analytics.adapters import login
from services.analytics.adapters.http import router
from services.analytics.projecting.live import project_live
from shared.db import migrations_from_package
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.serve import serve
from shared.settings import ServiceSettings


def build_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(
        settings,
        migrations=migrations_from_package("services.analytics.migrations"),
        publishes=False,
        background=[project_live],
    )
    app = create_app(
        runtime,
        title="Mentorship · analytics",
        description="Read side: relationship timelines and program-evaluation dashboards.",
    )
    app.include_router(router)
    app.include_router(login.router)
    return app


if __name__ == "__main__":
    serve(build_app, service_name="analytics", default_port=8005)
