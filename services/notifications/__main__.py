"""Run the notifications service: ``python -m services.notifications`` (settings from MENTORSHIP_* env).

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
    return create_app(runtime, title="Mentorship · notifications", description="Introductions, forwarded requests, nudges and reminders.")


if __name__ == "__main__":
    serve(build_app, service_name="notifications", default_port=8004)
