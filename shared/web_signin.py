"""Signing people in to a service's own web pages through the institution's OpenID Connect provider.

A service that serves pages (analytics' dashboard, the portal) builds one ``WebSignIn`` from its settings
(``web_sign_in``) and includes ``sign_in_router()``:

- ``GET /login``: a sign-in button (a form with a CSRF token, double-submitted in a short-lived cookie).
- ``POST /login``: refused from a foreign ``Origin`` (login CSRF) or without the token; otherwise the authorization
  code flow with PKCE starts (``shared.oidc_client``) and the browser goes to the provider. The ``state`` is kept
  server-side and in a cookie of this browser, so a code sent back to another browser is refused.
- ``GET /auth/callback``: the code is exchanged, the ID token verified and mapped (``shared.auth.ClaimMapping``);
  a person without one of the pages' roles gets no session. Otherwise a server-side session starts
  (``shared.web_session``) and the browser gets its id in a cookie: HttpOnly, SameSite=Lax, ``Max-Age``, and Secure
  unless the service runs in development mode over plain http. The request's scheme is the one uvicorn saw, or
  ``X-Forwarded-Proto`` from a proxy it trusts (``FORWARDED_ALLOW_IPS``).
- ``POST /logout``: with the session's CSRF token and from this origin only; the session's row is deleted (the old
  cookie means nothing afterwards) and the browser goes to the provider's ``end_session_endpoint`` to sign out there.

The session cookie authorises only this service's pages (``page_reader``), never an API of any service: APIs take
bearer tokens only (``shared.auth.current_principal``). A service whose pages call other services' APIs for the
person (the portal) passes ``keep_tokens``: it receives the new session's id and the provider's token answer, and
keeps them server-side (the browser never sees a token).
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth import ClaimMapping, Principal, Role, current_principal
from shared.issuer import Issuer, IssuerUnavailable
from shared.oidc_client import OidcClient, SignInFailed, TokenSet
from shared.settings import ServiceSettings
from shared.web_session import PendingLogin, SessionStore, WebSession

SESSION_COOKIE = "mentorship_session"
LOGIN_CSRF_COOKIE = "mentorship_login_csrf"
LOGIN_STATE_COOKIE = "mentorship_login_state"
LOGIN_LIFETIME = timedelta(minutes=10)
CALLBACK = "/auth/callback"


@dataclass
class WebSignIn:
    client: OidcClient | None  # None: no provider configured, nobody can sign in
    store: SessionStore
    page_roles: frozenset[Role]
    home: str
    title: str
    session_lifetime: timedelta = timedelta(hours=8)
    dev_mode: bool = False
    public_url: str | None = None
    keep_tokens: Callable[[str, TokenSet], Awaitable[None]] | None = None
    """Called with a new session's id and the token answer of its sign-in (a service that calls APIs for the person)."""

    def base_url(self, request: Request) -> str:
        return (self.public_url or str(request.base_url)).rstrip("/")

    def origin(self, request: Request) -> str:
        parts = urlsplit(self.base_url(request))
        return f"{parts.scheme}://{parts.netloc}"

    def secure(self, request: Request) -> bool:
        """Secure cookies, except in development mode over plain http (a browser would drop them there)."""
        return request.url.scheme == "https" or urlsplit(self.base_url(request)).scheme == "https" or not self.dev_mode

    async def session_of(self, request: Request) -> tuple[str, WebSession] | None:
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id or len(session_id) > 128:
            return None
        session = await self.store.find(session_id)
        return (session_id, session) if session else None


def oidc_client(
    settings: ServiceSettings, issuer: Issuer | None = None, resources: tuple[str, ...] = ()
) -> OidcClient | None:
    """The provider's client from the service's settings, or None when no provider is configured.

    ``issuer``: the one the service's token verifier uses, so both share its keys."""
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    return OidcClient(
        issuer or Issuer(settings.oidc_issuer, min_refresh_seconds=settings.oidc_jwks_refresh_seconds),
        settings.oidc_client_id,
        settings.oidc_client_secret,
        mapping=ClaimMapping(settings.oidc_subject_claim, settings.oidc_roles_claim, settings.oidc_role_map),
        scope=settings.oidc_scopes,
        leeway=timedelta(seconds=settings.token_leeway_seconds),
        max_lifetime=timedelta(seconds=settings.token_max_lifetime_seconds),
        resources=resources,
    )


def web_sign_in(
    settings: ServiceSettings,
    store: SessionStore,
    page_roles: frozenset[Role],
    *,
    home: str,
    title: str,
    issuer: Issuer | None = None,
    resources: tuple[str, ...] = (),
    keep_tokens: Callable[[str, TokenSet], Awaitable[None]] | None = None,
) -> WebSignIn:
    """A service's sign-in, configured from its settings (provider, session lifetime, mode, public address)."""
    return WebSignIn(
        oidc_client(settings, issuer, resources),
        store,
        page_roles,
        home=home,
        title=title,
        session_lifetime=timedelta(seconds=settings.web_session_seconds),
        dev_mode=settings.dev_mode,
        public_url=settings.public_url,
        keep_tokens=keep_tokens,
    )


def set_login_csrf(response: Response, token: str, sign_in: WebSignIn, request: Request) -> None:
    """The sign-in form's CSRF token, double-submitted in a short-lived cookie that only ``/login`` gets."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=int(LOGIN_LIFETIME.total_seconds()),
        path="/login",
        httponly=True,
        samesite="strict",
        secure=sign_in.secure(request),
    )


async def get_sign_in(request: Request) -> WebSignIn:
    return request.app.state.web_sign_in


SignIn = Annotated[WebSignIn, Depends(get_sign_in)]


def _foreign(request: Request, sign_in: WebSignIn) -> str | None:
    """Why a state-changing form post does not come from this service's own pages, or None if it does."""
    origin = request.headers.get("origin")
    if origin is not None and origin != sign_in.origin(request):
        return f"a form from another origin ({origin}) is refused"
    if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        return "a form from another site is refused"
    return None


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:8192].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body).items()}


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:3rem auto;max-width:36rem}}.error{{color:#a11}}</style>
</head><body><h1>{escape(title)}</h1>{body}</body></html>"""
    return HTMLResponse(html, status_code, headers={"Cache-Control": "no-store"})


def _refusal(sign_in: WebSignIn, message: str, status_code: int) -> HTMLResponse:
    body = f'<p class="error" role="alert">{escape(message)}</p><p><a href="/login">Sign in</a></p>'
    return _page(sign_in.title, body, status_code)


def sign_in_router() -> APIRouter:
    router = APIRouter(tags=["sign-in"], include_in_schema=False)

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, sign_in: SignIn) -> HTMLResponse:
        if sign_in.client is None:
            message = "Sign-in is not configured (MENTORSHIP_OIDC_ISSUER, MENTORSHIP_OIDC_CLIENT_ID and _SECRET)."
            return _refusal(sign_in, message, status.HTTP_503_SERVICE_UNAVAILABLE)
        token = secrets.token_urlsafe(32)
        note = "<p role='status'>You are signed out.</p>" if "signed_out" in request.query_params else ""
        roles = " or ".join(sorted(sign_in.page_roles))
        body = (
            f"{note}<p>Sign in with your institution's account ({escape(roles)}).</p>"
            f'<form method="post" action="/login"><input type="hidden" name="csrf" value="{token}">'
            '<button type="submit">Sign in</button></form>'
        )
        response = _page(sign_in.title, body)
        set_login_csrf(response, token, sign_in, request)
        return response

    @router.post("/login", response_model=None)
    async def login(request: Request, sign_in: SignIn) -> Response:
        if sign_in.client is None:
            return _refusal(sign_in, "Sign-in is not configured.", status.HTTP_503_SERVICE_UNAVAILABLE)
        foreign = _foreign(request, sign_in)
        if foreign or not _same((await _form(request)).get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return _refusal(sign_in, foreign or "The sign-in form has expired; try again.", status.HTTP_403_FORBIDDEN)
        redirect_uri = sign_in.base_url(request) + CALLBACK
        try:
            start = await sign_in.client.begin(redirect_uri)
        except IssuerUnavailable as exc:
            return _refusal(sign_in, f"The sign-in service is unreachable: {exc}", status.HTTP_503_SERVICE_UNAVAILABLE)
        await sign_in.store.remember_login(
            PendingLogin(start.state, start.nonce, start.code_verifier, redirect_uri), LOGIN_LIFETIME
        )
        response = RedirectResponse(start.url, status.HTTP_303_SEE_OTHER)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        response.set_cookie(
            LOGIN_STATE_COOKIE,
            start.state,
            max_age=int(LOGIN_LIFETIME.total_seconds()),
            path=CALLBACK,
            httponly=True,
            samesite="lax",  # sent when the provider redirects the browser back (a top-level GET)
            secure=sign_in.secure(request),
        )
        return response

    @router.get(CALLBACK, response_model=None)
    async def callback(request: Request, sign_in: SignIn) -> Response:
        params = request.query_params
        if sign_in.client is None:
            return _refusal(sign_in, "Sign-in is not configured.", status.HTTP_503_SERVICE_UNAVAILABLE)
        state = params.get("state", "")
        if not _same(state, request.cookies.get(LOGIN_STATE_COOKIE)):
            return _refusal(sign_in, "This sign-in was not started in this browser.", status.HTTP_400_BAD_REQUEST)
        pending = await sign_in.store.take_login(state)
        if pending is None:
            return _refusal(sign_in, "This sign-in has expired or was used; try again.", status.HTTP_400_BAD_REQUEST)
        if params.get("iss") not in (None, sign_in.client.issuer.url):  # RFC 9207: the answer of another provider
            return _refusal(sign_in, "The sign-in answer comes from another provider.", status.HTTP_400_BAD_REQUEST)
        if "error" in params or "code" not in params:
            reason = params.get("error_description") or params.get("error") or "no code"
            return _refusal(sign_in, f"The sign-in was not completed: {reason}", status.HTTP_401_UNAUTHORIZED)
        try:
            principal, tokens = await sign_in.client.exchange(
                params["code"], pending.redirect_uri, pending.code_verifier, pending.nonce
            )
        except SignInFailed as exc:
            return _refusal(sign_in, f"The sign-in failed: {exc}", status.HTTP_401_UNAUTHORIZED)
        except IssuerUnavailable as exc:
            return _refusal(sign_in, f"The sign-in service is unreachable: {exc}", status.HTTP_503_SERVICE_UNAVAILABLE)
        if not principal.has_any(set(sign_in.page_roles)):
            needed = " or ".join(sorted(sign_in.page_roles))
            return _refusal(sign_in, f"These pages are for the {needed} roles only.", status.HTTP_403_FORBIDDEN)
        session_id, _ = await sign_in.store.start(principal, sign_in.session_lifetime)
        if sign_in.keep_tokens is not None:
            await sign_in.keep_tokens(session_id, tokens)
        response = RedirectResponse(sign_in.home, status.HTTP_303_SEE_OTHER)
        response.delete_cookie(LOGIN_STATE_COOKIE, path=CALLBACK)
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=int(sign_in.session_lifetime.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=sign_in.secure(request),
        )
        return response

    @router.post("/logout", response_model=None)
    async def logout(request: Request, sign_in: SignIn) -> Response:
        found = await sign_in.session_of(request)
        foreign = _foreign(request, sign_in)
        if found is not None and (foreign or not _same((await _form(request)).get("csrf"), found[1].csrf_token)):
            return _refusal(sign_in, foreign or "The sign-out form is not this session's.", status.HTTP_403_FORBIDDEN)
        target = sign_in.base_url(request) + "/login?signed_out=1"
        if found is None:  # nothing to end here; and no foreign page may sign anyone out at the provider
            return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
        await sign_in.store.end(found[0])
        if sign_in.client is not None:
            with contextlib.suppress(IssuerUnavailable):  # signed out here; the provider's session ends in time
                target = await sign_in.client.end_session_url(sign_in.base_url(request) + "/login") or target
        response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=sign_in.secure(request))
        return response

    return router


@dataclass(frozen=True)
class Reader:
    """Who reads a page: through a browser session (with its CSRF token for the page's forms) or a bearer token."""

    principal: Principal
    session: WebSession | None


_bearer = HTTPBearer(auto_error=False)


def page_reader(*roles: Role, redirect: bool = False) -> Callable:
    """Dependency: a bearer token (checked like any API call) or, without one, this service's browser session.

    ``redirect``: a browser without a session is sent to ``/login`` (for HTML pages) instead of getting a 401.
    """
    allowed = set(roles)

    async def read(
        request: Request,
        sign_in: SignIn,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Reader:
        if credentials is not None:
            reader = Reader(await current_principal(request, credentials), None)
        else:
            found = await sign_in.session_of(request)
            if found is None:
                if redirect:
                    raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": "/login"})
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED,
                    detail="sign in at /login or send a bearer token",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            reader = Reader(found[1].principal, found[1])
        if not reader.principal.has_any(allowed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"requires one of the roles: {', '.join(sorted(allowed))}"
            )
        return reader

    return read
