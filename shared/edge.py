"""The HTTP edge every service's app gets from ``shared.http.create_app``: a pure ASGI middleware.

In the order a request meets them:

1. **Admission.** At most ``http_max_in_flight`` requests are served at once per process; up to
   ``http_max_queued`` more wait at most ``http_queue_seconds`` for a turn.  Any other request is answered
   503 with ``Retry-After`` at once, before it reaches a route: nothing of it was started, so nothing is
   half-done.  Health, readiness and metrics are never queued.
2. **Size.** FastAPI's body limit (``max_body_size``, ``shared.limits``): a ``Content-Length`` above the
   route's limit is refused with 413 before a byte of the body is read and before authentication.
3. **Authentication before the body.** FastAPI reads and decodes a route's body *before* it resolves the
   route's dependencies, so an anonymous 300 MB POST was read in full only to be refused 401.  Here the
   route's authenticating dependencies (those on ``shared.auth.current_principal`` or another security
   scheme) are resolved first, when the route first asks for its body: a request without a valid token
   gets the route's own 401 (or 403) and its body is never read.  The dependencies are the route's own,
   resolved by FastAPI, so ``shared.auth`` stays the one place that verifies a token.
4. **Parse level.** A route that takes JSON gets its body only after ``shared.limits.check_json`` and the
   media type check passed (400, 415).
5. **Database.** While a request is served, waiting for a pooled connection is bounded by
   ``db_acquire_timeout_seconds`` (``shared.db.acquire_bound``); ``PoolExhausted`` → 503 with
   ``Retry-After`` (``shared.http``).  The wait happens before the command's transaction begins, or inside
   it, which then rolls back whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import solve_dependencies
from fastapi.params import Form
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from starlette.datastructures import Headers
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import BEARER, ROLE_CHECKS, current_principal
from shared.db import acquire_bound
from shared.limits import check_json, check_media_type
from shared.metrics import http_shed

UNQUEUED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class Admission:
    """Bounded concurrency with a bounded, time-limited queue (one per process, on its event loop)."""

    def __init__(self, in_flight: int, queued: int, wait_seconds: float) -> None:
        self.limit, self.queued, self.wait_seconds = in_flight, queued, wait_seconds
        self.serving = 0
        self.waiting = 0
        self._turns: deque[asyncio.Future[None]] = deque()

    @property
    def retry_after(self) -> int:
        """Seconds a refused caller should wait: about as long as a queued request may wait (at least 1)."""
        return max(1, math.ceil(self.wait_seconds))

    async def enter(self) -> str | None:
        """None once admitted (call ``leave`` when done); else why not: "queue full" or "waited too long"."""
        if self.serving < self.limit and not self._turns:
            self.serving += 1
            return None
        if self.waiting >= self.queued:
            return "queue full"
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait_seconds):
                await turn  # ``leave`` hands its slot over: ``serving`` already counts this request
            return None
        except TimeoutError:
            if turn.done() and not turn.cancelled():  # the slot came at the last moment: pass it on
                self.leave()
            return "waited too long"
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.leave()
            raise
        finally:
            self.waiting -= 1
            with contextlib.suppress(ValueError):
                self._turns.remove(turn)

    def leave(self) -> None:
        while self._turns:
            turn = self._turns.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot goes to the longest waiting request
                return
        self.serving -= 1


class HttpEdge:
    """Pure ASGI middleware: admission, the database wait bound, and the gated body (see the module)."""

    def __init__(self, app: ASGIApp, *, service: str, admission: Admission, acquire_timeout: float) -> None:
        self.app = app
        self.service = service
        self.admission = admission
        self.acquire_timeout = acquire_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNQUEUED_PATHS:
            await self.app(scope, receive, send)
            return
        refused = await self.admission.enter()
        if refused is not None:
            http_shed.labels(self.service, refused).inc()
            await overloaded(f"the service is at capacity ({refused})", self.admission.retry_after)(
                scope, receive, send
            )
            return
        try:
            with acquire_bound(self.acquire_timeout):
                await self.app(scope, GatedBody(scope, receive), send)
        finally:
            self.admission.leave()


def overloaded(detail: str, retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"detail": f"{detail}; retry after {retry_after} s"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(retry_after)},
    )


class GatedBody:
    """The ``receive`` a route reads its body through: the first read authenticates and checks first."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.opened = False
        self.ready: deque[Message] = deque()

    async def __call__(self) -> Message:
        if not self.opened:
            self.opened = True
            await self._open()
        if self.ready:
            return self.ready.popleft()
        return await self.receive()

    async def _open(self) -> None:
        route = self.scope.get("route")  # routing has happened: the route asks for its body
        refuse_too_large(self.scope)  # before a byte is read, before authentication
        if not isinstance(route, APIRoute):
            return
        if route.body_field is not None:  # FastAPI would read the body before the dependencies
            await authenticate_first(Request(self.scope, self.receive), route)
        if takes_json(route):
            await self._checked_json(route)

    async def _checked_json(self, route: APIRoute) -> None:
        chunks: list[bytes] = []
        while True:
            message = await self.receive()  # counted by the body limiter: above the limit it raises 413
            if message["type"] != "http.request":
                self.ready.append(message)  # the client went away: the route sees it as it would have
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            check_media_type(Headers(scope=self.scope).get("content-type"), accepted=json_media_types(route))
            check_json(body)
        self.ready.append({"type": "http.request", "body": body, "more_body": False})


def content_length(scope: Scope) -> int | None:
    try:
        return int(Headers(scope=scope)["content-length"])
    except (KeyError, ValueError):
        return None


def refuse_too_large(scope: Scope) -> None:
    """413 when the ``Content-Length`` is above the route's limit (a chunked body is cut by the limiter)."""
    limit = scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    length = content_length(scope)
    if limit is not None and length is not None and length > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"the body ({length} bytes) is larger than the {limit} bytes this route takes",
        )


async def refuse_unread_body(request: Request) -> None:
    """App-wide dependency: a route that takes no body never reads one, so the limiter would only notice a
    ``Content-Length`` above the limit once the route had run; refuse it before, like any other (413)."""
    refuse_too_large(request.scope)


def takes_json(route: APIRoute) -> bool:
    """A body model that is not a form, or an OpenAPI request body in a JSON media type (SCIM)."""
    if route.body_field is not None:
        return not isinstance(route.body_field.field_info, Form)
    return bool(_declared_media_types(route)) and all(_is_json(m) for m in _declared_media_types(route))


def json_media_types(route: APIRoute) -> str:
    declared = [m for m in _declared_media_types(route) if _is_json(m)]
    return " or ".join(declared) if declared else "application/json"


def _declared_media_types(route: APIRoute) -> list[str]:
    body = (route.openapi_extra or {}).get("requestBody") or {}
    return list(body.get("content") or {})


def _is_json(media: str) -> bool:
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def authenticate_first(request: Request, route: APIRoute) -> None:
    """Resolve the route's authenticating dependencies now, before its body; their 401/403 stands.

    Anything else they raise, or a parameter they lack, is left to the route's own resolution after the
    body (as before): this step only moves the refusal of a caller without a valid token earlier.
    """
    authenticating = _authenticating(route)
    if authenticating is None:
        return
    checks = _direct_checks(route)
    try:
        if checks is not None and not _overridden(route, request):
            credentials = await BEARER(request)
            for check in checks:
                await check(request, credentials)
            return
        await solve_dependencies(
            request=request,
            dependant=authenticating,
            body=None,
            dependency_overrides_provider=route.dependency_overrides_provider or request.scope.get("app"),
            async_exit_stack=request.scope["fastapi_inner_astack"],
            embed_body_fields=False,
        )
    except HTTPException:
        raise
    except Exception:  # not a refusal of the caller: the route decides, after the body
        return


_AUTHENTICATING = "_mentorship_authenticating"


def _authenticating(route: APIRoute) -> Dependant | None:
    """The route's authenticating dependencies as one dependant, built once per route (kept on the route), not
    per request."""
    if _AUTHENTICATING not in route.__dict__:
        authenticators = [d for d in route.dependant.dependencies if _authenticates(d)]
        dependant = Dependant(dependencies=authenticators, path=route.path_format) if authenticators else None
        setattr(route, _AUTHENTICATING, dependant)
    return route.__dict__[_AUTHENTICATING]


_DIRECT = "_mentorship_direct_checks"


def _direct_checks(route: APIRoute) -> list[Callable[..., Any]] | None:
    """The route's authenticating dependencies as calls, when each is ``current_principal`` or a ``require_roles``
    check on the bearer scheme alone (every route of the services): ``authenticate_first`` then calls them directly
    with the request and the scheme's credentials, which is what FastAPI's resolution of them does. Resolving them
    with ``solve_dependencies`` cost more than the token check and the standing query together (FastAPI works out
    each dependency's cache key and scopes again on every request; bench/load.py --profile). None: any other shape,
    resolved by FastAPI. Built once per route."""
    if _DIRECT not in route.__dict__:
        checks: list[Callable[..., Any]] | None = []
        for dependant in (d for d in route.dependant.dependencies if _authenticates(d)):
            if not _on_bearer_alone(dependant):
                checks = None
                break
            checks.append(dependant.call)
        setattr(route, _DIRECT, checks)
    return route.__dict__[_DIRECT]


def _on_bearer_alone(dependant: Dependant) -> bool:
    """``current_principal`` or a ``require_roles`` check, taking only the request and the bearer scheme."""
    return (
        (dependant.call is current_principal or dependant.call in ROLE_CHECKS)
        and len(dependant.dependencies) == 1
        and dependant.dependencies[0].call is BEARER
        and not dependant.dependencies[0].dependencies
    )


def _overridden(route: APIRoute, request: Request) -> bool:
    """Whether the app overrides a dependency (tests may): then FastAPI resolves them, overrides and all."""
    provider = route.dependency_overrides_provider or request.scope.get("app")
    return bool(getattr(provider, "dependency_overrides", None))


def _authenticates(dependant: Dependant) -> bool:
    return _calls(dependant, lambda call: call is current_principal or isinstance(call, SecurityBase))


def _calls(dependant: Dependant, predicate: Callable[[Any], bool]) -> bool:
    pending = [dependant]
    while pending:
        item = pending.pop()
        if predicate(item.call):
            return True
        pending.extend(item.dependencies)
    return False
