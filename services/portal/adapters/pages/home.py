"""The sign-in page and the home page: one section per role the person holds, each with what needs them now.

The sign-in page is the portal's own (its layout and language); the form posts to the shared sign-in
(``shared.web_signin``: ``POST /login``), with the same double-submitted CSRF cookie that one checks."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.portal.adapters.i18n import N_
from services.portal.adapters.pages.pair import my_relationships_by_program
from services.portal.adapters.web import ViewerDep, portal_of, render, sections
from shared.auth import Role
from shared.web_signin import set_login_csrf

router = APIRouter(include_in_schema=False)
NAV = [((Role.admin, Role.analyst, Role.mentor, Role.mentee), "/", N_("Home"))]


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    sign_in = portal_of(request).sign_in
    token = secrets.token_urlsafe(32)
    configured = sign_in.client is not None
    response = render(
        None,
        "home/login.html",
        200 if configured else 503,
        request=request,
        login_csrf=token,
        configured=configured,
        signed_out="signed_out" in request.query_params,
    )
    set_login_csrf(response, token, sign_in, request)
    return response


@router.get("/", response_class=HTMLResponse)
async def home(viewer: ViewerDep) -> HTMLResponse:
    calls = {}
    if viewer.has(Role.mentee):
        calls["requests"] = viewer.api.get("matching", "/requests", {"limit": 20})
    if viewer.has(Role.mentor) and not viewer.has(Role.admin):
        calls["inbox"] = viewer.api.get("matching", "/requests", {"status": "forwarded", "limit": 50})
    found = await sections(**calls)
    relationships, by_program = None, []
    if viewer.has(Role.mentor, Role.mentee):
        relationships, by_program = await my_relationships_by_program(viewer)
    requests = found.get("requests")
    inbox = found.get("inbox")
    open_request = None
    if requests is not None and requests.value:
        open_request = next(
            (r for r in reversed(requests.value["items"]) if r["status"] in ("submitted", "forwarded")), None
        )
    waiting = []
    if inbox is not None and inbox.value:
        waiting = [r for r in inbox.value["items"] if r["mentor_id"] == viewer.subject and r["status"] == "forwarded"]
    return render(
        viewer,
        "home/home.html",
        requests=requests,
        open_request=open_request,
        inbox=inbox,
        waiting=waiting,
        relationships=relationships,
        by_program=by_program,
    )
