"""FastAPI app factory: health, readiness, metrics and clear errors for every service."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, AsyncIterator

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.eventstore import ConcurrencyConflict
from shared.runtime import ServiceRuntime


def create_app(runtime: ServiceRuntime, *, title: str, description: str = "") -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    app = FastAPI(title=title, description=description, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.jwt_secret = runtime.settings.jwt_secret

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.service}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        checks = await runtime.ready()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(ConcurrencyConflict)
    async def conflict(_: Request, exc: ConcurrencyConflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    return app


def get_runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]
