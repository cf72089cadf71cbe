"""What every page shares: who reads it (``Viewer``), rendering in the reader's language, form posts checked against
CSRF, and the answers for what went wrong elsewhere (a service down, a sign-in ended) as a page, never a trace.

A page module (``adapters/pages/<area>.py``) takes ``ViewerDep`` (a signed-in person, or a redirect to ``/login``),
calls the other services through ``viewer.api`` and answers ``render(viewer, "<area>/<page>.html", ...)``. Forms
post ``application/x-www-form-urlencoded`` with the session's CSRF token (``{{ csrf_field() }}``);
``checked_form`` refuses a post without it or from another origin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, urlencode

import jinja2
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal.adapters import i18n
from services.portal.adapters.api_client import PersonApi, ServiceClients
from services.portal.adapters.tokens import SessionTokens, TokenStore
from services.portal.application.errors import ApiError, NotFound, Refused, ServiceDown, SignInNeeded
from services.portal.settings import PortalSettings
from shared.auth import Principal, Role
from shared.clock import Clock, SystemClock
from shared.web_session import WebSession
from shared.web_signin import SESSION_COOKIE, WebSignIn

TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_BYTES = 64 * 1024
T = TypeVar("T")


@dataclass
class Portal:
    """What the pages need, built once by ``bootstrap`` (``app.state.portal``)."""

    options: PortalSettings
    sign_in: WebSignIn
    clients: ServiceClients
    tokens: TokenStore
    clock: Clock = field(default_factory=SystemClock)
    nav: list[Any] = field(default_factory=list)  # (roles, path, label) of every area, in order


@dataclass
class Viewer:
    """The signed-in person reading a page, in their language, with the API client acting as them."""

    request: Request
    principal: Principal
    session: WebSession
    api: PersonApi
    language: str
    portal: Portal

    @property
    def subject(self) -> str:
        return self.principal.subject

    def has(self, *roles: Role) -> bool:
        return self.principal.has_any(set(roles))

    def gettext(self, message: str) -> str:
        return i18n.translations(self.language).ugettext(message)


@cache
def _environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = _when
    env.globals["Role"] = Role
    return env


def _when(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).strftime(fmt)


def portal_of(request: Request) -> Portal:
    return request.app.state.portal


def language_of(request: Request, portal: Portal) -> str:
    return i18n.negotiate(request.headers.get("accept-language"), portal.options.default_locale)


async def viewer(request: Request) -> Viewer:
    """The signed-in person, or a redirect to the sign-in page."""
    portal = portal_of(request)
    found = await portal.sign_in.session_of(request)
    if found is None:
        raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": "/login"})
    session_id, session = found
    tokens = SessionTokens(portal.tokens, portal.sign_in.client, session_id)
    api = PersonApi(portal.clients, tokens, request.state.correlation_id)
    return Viewer(request, session.principal, session, api, language_of(request, portal), portal)


ViewerDep = Annotated[Viewer, Depends(viewer)]


def render(
    viewer: Viewer | None, template: str, status_code: int = 200, *, request: Request | None = None, **context: Any
) -> HTMLResponse:
    """``template`` in the reader's language, in the shared layout (navigation, account, flash message)."""
    request = viewer.request if viewer else request
    assert request is not None
    portal = portal_of(request)
    language = viewer.language if viewer else language_of(request, portal)
    nav = [(path, label) for roles, path, label in portal.nav if viewer and viewer.principal.has_any(set(roles))]
    page = _environment(language).get_template(template)
    html = page.render(
        lang=language,
        viewer=viewer,
        nav=nav,
        here=request.url.path,
        csrf=viewer.session.csrf_token if viewer else "",
        done=request.query_params.get("done", ""),
        dashboard_url=portal.options.dashboard_url,
        **context,
    )
    return HTMLResponse(html, status_code, headers={"Cache-Control": "no-store"})


def done(path: str, what: str, **params: str) -> RedirectResponse:
    """After a successful post: back to a page (303), which says what was done (``done`` keys in base.html)."""
    return RedirectResponse(f"{path}?{urlencode({'done': what, **params})}", status.HTTP_303_SEE_OTHER)


class Form(dict[str, list[str]]):
    """A posted form: every value of a name, in order."""

    def one(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[0].strip() if values else default

    def many(self, name: str) -> list[str]:
        return [v.strip() for v in self.get(name, []) if v.strip()]


async def checked_form(viewer: Viewer) -> Form:
    """The posted form, after the CSRF token (the session's) and the origin checks; 403 otherwise."""
    request = viewer.request
    origin = request.headers.get("origin")
    sign_in = viewer.portal.sign_in
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="the form is too large")
    form = Form(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    foreign = (origin is not None and origin != sign_in.origin(request)) or request.headers.get(
        "sec-fetch-site"
    ) not in (None, "same-origin", "none")
    if foreign or form.one("csrf") != viewer.session.csrf_token:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="This form is not from this session; reload the page.")
    return form


@dataclass
class Section:
    """A part of a page filled from one service: its value, or why it is missing (the service is down)."""

    value: Any = None
    down: str | None = None


async def section(call: Awaitable[T], default: T | None = None) -> Section:
    """``call``'s answer, or a ``Section`` that says the service is down (the rest of the page still renders)."""
    try:
        return Section(await call)
    except ServiceDown as exc:
        return Section(default, exc.service)
    except NotFound:
        return Section(default)


async def sections(**calls: Awaitable[Any]) -> dict[str, Section]:
    names = list(calls)
    found = await asyncio.gather(*(section(c) for c in calls.values()))
    return dict(zip(names, found, strict=True))


def install_error_pages(app: FastAPI) -> None:
    """What went wrong elsewhere, as a page in the layout: never a blank page or a stack trace."""

    async def down(request: Request, exc: Exception) -> Response:
        return await _error_page(request, "errors/down.html", 503, service=getattr(exc, "service", ""))

    async def sign_in_again(request: Request, _: Exception) -> Response:
        response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def refused(request: Request, exc: Exception) -> Response:
        code = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Refused) else 400
        return await _error_page(request, "errors/refused.html", code, detail=getattr(exc, "detail", ""))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code < 400:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return await _error_page(request, "errors/refused.html", exc.status_code, detail=str(exc.detail))

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = "; ".join(f"{'.'.join(map(str, e.get('loc', ())[1:]))}: {e.get('msg', '')}" for e in exc.errors())
        return await _error_page(request, "errors/refused.html", 422, detail=fields)

    app.add_exception_handler(ServiceDown, down)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(SignInNeeded, sign_in_again)
    app.add_exception_handler(ApiError, refused)
    app.add_exception_handler(HTTPException, http_error)


async def _error_page(request: Request, template: str, code: int, **context: Any) -> Response:
    accepts_html = "text/html" in request.headers.get("accept", "text/html") or not request.url.path.startswith("/api")
    if not accepts_html:
        return Response(status_code=code)
    try:
        found = await viewer(request)
    except HTTPException:
        found = None
    return render(found, template, code, request=request, **context)
