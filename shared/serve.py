"""Process entry point shared by every service's ``__main__``."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings


def serve(build_app: Callable[[ServiceSettings], FastAPI], *, service_name: str, default_port: int) -> None:
    """``python -m services.<name>`` serves; ``--migrate-only`` applies migrations and exits."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{service_name}")
    parser.add_argument("--migrate-only", action="store_true", help="apply database migrations, then exit")
    args = parser.parse_args()
    os.environ.setdefault("MENTORSHIP_HTTP_PORT", str(default_port))
    try:
        settings = ServiceSettings(service_name=service_name)
    except ValidationError as exc:
        problems = "; ".join(f"MENTORSHIP_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        parser.exit(2, f"{parser.prog}: invalid settings: {problems}\n")
    if args.migrate_only:
        runtime: ServiceRuntime = build_app(settings).state.runtime
        applied = asyncio.run(runtime.migrate_only())
        print(f"{service_name}: {len(applied)} migration(s) applied" + "".join(f"\n  {name}" for name in applied))
        return
    uvicorn.run(
        build_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
        # Longer than any client's or proxy's idle keep-alive (httpx 5 s, ingress-nginx upstream 60 s): the client
        # closes an idle connection first, so a request is never sent on one the server is closing (a reset).
        timeout_keep_alive=75,
    )
