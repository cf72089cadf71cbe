"""Process entry point shared by every service's ``__main__``."""

from __future__ import annotations

import os
from typing import Callable

import uvicorn
from fastapi import FastAPI

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
