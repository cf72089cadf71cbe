"""Run the analytics service: ``python -m services.analytics`` (settings from MENTORSHIP_* env).

Only the service frame is here yet: health, readiness, metrics, its database
and topics.  Its domain arrives with its own issue.
"""

from __future__ import annotations

from fastapi import FastAPI

from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.serve import serve
from shared.settings import ServiceSettings


def build_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, publishes=False)
    return create_app(runtime, title="Mentorship · analytics", description="Read side: relationship timelines and program-evaluation dashboards.")


if __name__ == "__main__":
    serve(build_app, service_name="analytics", default_port=8005)
