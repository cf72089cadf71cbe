"""Process entry point shared by every service's ``__main__``."""

from __future__ import annotations

import os
from typing import Callable

import uvicorn
from fastapi import FastAPI

from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings


def serve(build_app: Callable[[ServiceSettings], FastAPI], *, service_name: str, default_port: int) -> None:
    os.environ.setdefault("MENTORSHIP_HTTP_PORT", str(default_port))
    settings = ServiceSettings(service_name=service_name)
    uvicorn.run(
        build_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def serve_frame(service_name: str, default_port: int, description: str, *, publishes: bool = True) -> None:
    """Run a service that has only its frame yet: database, topics, health, readiness, metrics."""
    def build_app(settings: ServiceSettings) -> FastAPI:
        runtime = ServiceRuntime(settings, publishes=publishes)
        return create_app(runtime, title=f"Mentorship · {service_name}", description=description)

    serve(build_app, service_name=service_name, default_port=default_port)
