"""The composition root of the portal: settings, the sign-in, the API clients and the pages, built once.

The portal is a backend for the browser: it renders pages and calls the other services' HTTP APIs as the signed-in
person. It owns no domain data, consumes and publishes no events (no broker), and its database holds only sessions.
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from services.portal.adapters import pages, sign_in, static
from services.portal.adapters.api_client import ServiceClients
from services.portal.adapters.tokens import TokenStore
from services.portal.adapters.web import Portal, install_error_pages
from services.portal.settings import PortalSettings
from shared.clock import Clock, clock_for
from shared.db import migrations_from_package
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings


def build_app(
    settings: ServiceSettings,
    options: PortalSettings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """``transport``: how the API clients reach the services (tests: in-process apps); the network by default.
    ``clock``: what "now" is for deadlines shown and meetings ended (the services' own clock in tests; the
    development clock file when the settings name one, as the services' processes read it)."""
    options = options or PortalSettings()
    clients = ServiceClients(options, settings.oidc_audience, transport)

    async def close_clients(_: ServiceRuntime, stop: asyncio.Event) -> None:
        await stop.wait()
        await clients.aclose()

    runtime = ServiceRuntime(
        settings,
        migrations=migrations_from_package("services.portal.migrations"),
        publishes=False,
        uses_broker=False,
        background=[close_clients],
    )
    app = create_app(
        runtime,
        title="Mentorship · portal",
        description="The people's pages: mentees, mentors, pairs and the program director, over the services' APIs.",
    )
    tokens = TokenStore(lambda: runtime.pool)
    web_sign_in = sign_in.portal_sign_in(settings, lambda: runtime.pool, tokens, app.state.token_verifier.issuer)
    app.state.web_sign_in = web_sign_in
    dev_mail = options.dev_mail_url if settings.dev_mode else None
    app.state.portal = Portal(options, web_sign_in, clients, tokens, clock or clock_for(settings), dev_mail=dev_mail)
    install_error_pages(app)
    pages.install(app, app.state.portal)  # first: the portal's own sign-in page answers GET /login
    app.include_router(sign_in.router)
    static.install(app, options)
    return app
