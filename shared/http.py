"""FastAPI app factory: health, readiness, metrics, clear errors and the HTTP edge (shared.edge) for every service."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars, reset_contextvars

from shared import tracing
from shared.auth import Principal, Role, TokenVerifier, require_roles
from shared.db import PoolExhausted
from shared.edge import Admission, HttpEdge, overloaded, refuse_unread_body
from shared.errors import ConcurrencyConflict, EventTooLarge, InvalidCommand, NotAllowed, NotFound, RuleViolation
from shared.keysource import install_keys_route
from shared.metrics import http_latency, http_shed
from shared.outbox import requeue_all
from shared.privacy import router as privacy_router
from shared.runtime import ServiceRuntime
from shared.standing import StandingCache

CONTACT = {"name": "Mentoring platform team", "email": "platform@example.edu"}
OPS_TAG = {
    "ops": "Health, readiness and operations of this service process.",
    "privacy": "Subject access and erasure receipts (admins): where this service keeps a person's data.",
}


def create_app(
    runtime: ServiceRuntime, *, title: str, description: str = "", tags: dict[str, str] | None = None
) -> FastAPI:
    """The service's app.  ``tags`` describes the OpenAPI tags of its routes (each route's tag must be one)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    s = runtime.settings
    app = FastAPI(
        title=title,
        description=description,
        lifespan=lifespan,
        contact=CONTACT,
        servers=[
            {
                "url": f"http://127.0.0.1:{runtime.settings.http_port}",
                "description": "This service on its configured port (as `mentorship dev up` starts it)",
            }
        ],
        openapi_tags=[{"name": name, "description": text} for name, text in {**OPS_TAG, **(tags or {})}.items()],
        max_body_size=s.http_max_body_bytes,  # a route taking batches declares more (shared.limits)
        dependencies=[Depends(refuse_unread_body)],
    )
    app.state.runtime = runtime
    if tracing.configure(runtime.service, s.tracing_otlp_endpoint, sample_ratio=s.tracing_sample_ratio):
        tracing.instrument_app(app)
    app.state.token_verifier = TokenVerifier.from_settings(runtime.settings)
    # The standing check's answers, kept while its connection listens for changes (shared.standing).
    app.state.standing_cache = StandingCache(s.pg_dsn)
    runtime.background.append(app.state.standing_cache.run)
    # Added first, so it sits inside ``Correlate``: the route reads its body straight through it (shared.edge).
    admission = Admission(s.http_max_in_flight, s.http_max_queued, s.http_queue_seconds)
    app.add_middleware(
        HttpEdge, service=runtime.service, admission=admission, acquire_timeout=s.db_acquire_timeout_seconds
    )
    app.add_middleware(Correlate, service=runtime.service)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers (no dependency is checked)."""
        return {"status": "ok", "service": runtime.service}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        """Readiness: database, broker and the service's own checks; 503 while any fails."""
        checks = await runtime.ready()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if runtime.publishes:

        @app.post("/admin/republish", tags=["ops"], status_code=202)
        async def republish(_: Annotated[Principal, Depends(require_roles(Role.admin))]) -> dict[str, int | str]:
            """Refill this service's topic from its event store (after the broker lost its history)."""
            async with runtime.pool.acquire() as conn:
                queued = await requeue_all(conn)
            return {"service": runtime.service, "queued": queued}

        install_keys_route(app, runtime)

    if runtime.privacy is not None:  # subject access and erasure receipts (shared.privacy)
        include_routes(app, privacy_router(runtime.service, runtime.privacy))
    install_error_handlers(app)

    async def pool_exhausted(_: Request, exc: Exception) -> Response:
        http_shed.labels(runtime.service, "database").inc()
        return overloaded(str(exc), admission.retry_after)

    app.add_exception_handler(PoolExhausted, pool_exhausted)
    return app


_NO_LIFESPAN = type(APIRouter().lifespan_context)
"""The lifespan of a router that declares none."""


def include_routes(app: FastAPI, router: APIRouter) -> None:
    """Every route ``router`` has now added to the app itself, as ``app.include_router(router)`` would serve it (the
    same path, dependencies after the app's, tags, responses, body limit, OpenAPI operation), but as the app's own.

    FastAPI keeps an included router as one entry of the app's routes and scans the router's routes twice per
    request (once to match, once to handle), each candidate with its own scope bookkeeping: 20-100 µs of every
    request in a service with a few dozen routes, as much as the whole route of a bare FastAPI app
    (``bench/command_path.py``).  The app's own routes are matched once.  A router with anything else (a mount, a
    websocket, its own lifespan or start-up and shutdown handlers) is included as before."""
    plain = all(type(route) is APIRoute for route in router.routes)
    if not plain or router.on_startup or router.on_shutdown or type(router.lifespan_context) is not _NO_LIFESPAN:
        app.include_router(router)
        return
    for route in router.routes:
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            form_limits=route.form_limits,
        )


class Correlate:
    """Every command carries a correlation id: the caller's ``X-Correlation-ID`` or a new one; it is bound to the
    logs while the request is served, answered in the same header, and the request's latency is recorded.

    A pure ASGI middleware (Starlette's ``BaseHTTPMiddleware`` ran each request in a task group of its own with
    memory streams between: tens of µs per request, ``bench/load.py --profile``).
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app, self.service = app, service
        self._latency: dict[tuple[str, str, str], Any] = {}  # (method, route, status) → its histogram child

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = _correlation_id(_header(scope, _CORRELATION_KEY))
        scope.setdefault("state", {})["correlation_id"] = correlation  # ``request.state.correlation_id``
        header = (_CORRELATION_KEY, str(correlation).encode())
        started = time.perf_counter()
        status_code = 500

        async def send_correlated(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [
                    *(h for h in message.get("headers", ()) if h[0].lower() != header[0]),
                    header,
                ]
            await send(message)

        # bind/reset rather than ``bound_contextvars``, which reads every bound variable to restore them: the same
        # binding for the request, a few µs instead of tens (bench/load.py --profile); so are the header read and
        # the histogram's child kept per label set.
        tokens = bind_contextvars(correlation_id=header[1].decode())
        try:
            await self.app(scope, receive, send_correlated)
        finally:
            reset_contextvars(**tokens)
        route = getattr(scope.get("route"), "path", "unmatched")
        key = (scope["method"], route, str(status_code))
        latency = self._latency.get(key)
        if latency is None:
            latency = self._latency[key] = http_latency.labels(self.service, *key)
        latency.observe(time.perf_counter() - started)


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header ``name`` (lower case, as ASGI gives names), as ``Headers.get`` reads it."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def install_error_handlers(app: FastAPI) -> None:
    """The shared domain errors (``shared.errors``) and their subclasses, each to its status code."""
    app.add_exception_handler(ConcurrencyConflict, detail_handler(409))
    app.add_exception_handler(RuleViolation, detail_handler(409))
    app.add_exception_handler(NotAllowed, detail_handler(403))
    app.add_exception_handler(NotFound, detail_handler(404))
    app.add_exception_handler(InvalidCommand, field_error_handler)
    app.add_exception_handler(EventTooLarge, detail_handler(413))  # the append-time backstop (shared.eventstore)
    app.add_exception_handler(RequestValidationError, validation_error_handler)


def detail_handler(code: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """Exception handler answering ``code`` with the exception's message as ``detail``."""

    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=code)

    return handle


async def field_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """422 in FastAPI's validation shape for a rule breach naming a body field (``exc.field``, ``exc.reason``)."""
    field, reason = exc.field, exc.reason
    return JSONResponse(
        {"detail": [{"loc": ["body", *field.split(".")], "msg": reason, "type": "value_error"}]}, status_code=422
    )


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """422 naming each field and the reason (``loc``, ``msg``, ``type``), without echoing the input back: an
    input may be megabytes, personal, or not representable in JSON at all (a lone surrogate, ``NaN``)."""
    errors = [
        {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


CORRELATION_HEADER = "X-Correlation-ID"
_CORRELATION_KEY = CORRELATION_HEADER.lower().encode()


def _correlation_id(header: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(header) if header else uuid.uuid4()
    except ValueError:
        return uuid.uuid4()


async def correlation_id(request: Request) -> uuid.UUID:
    return request.state.correlation_id


CorrelationDep = Annotated[uuid.UUID, Depends(correlation_id)]


async def get_runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


async def get_container(request: Request) -> Any:
    """The service's composition root (``bootstrap.py`` stores it as ``app.state.container``)."""
    return request.app.state.container
