"""Run the relationships service: ``python -m services.relationships`` (settings from MENTORSHIP_* env).

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
    runtime = ServiceRuntime(settings, publishes=True)
    return create_app(runtime, title="Mentorship · relationships", description="Relationships, agreements, goals, meetings, cadence and closure.")


if __name__ == "__main__":
    serve(build_app, service_name="relationships", default_port=8003)
