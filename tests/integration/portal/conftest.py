"""The portal in-process against the real services: profiles and matching with their lifespans on real Postgres and
the real broker (profiles' events reach matching over the bus), relationships and notifications on their databases,
the real development OpenID Connect provider, and the portal calling them over ASGI as the signed-in person.

One stack per module (``stack``); people sign in through the provider's form as a browser would (``sign_in``), so the
tokens the portal uses are the provider's, per service audience.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest_asyncio
from fastapi import FastAPI

from mentorship.devstack.oidc import DEV_PASSWORD, OidcProvider
from mentorship.devstack.postgres import Postgres
from services.matching.bootstrap import build_app as matching_app
from services.portal.bootstrap import build_app as portal_app
from services.portal.settings import PortalSettings
from services.profiles.bootstrap import build_app as profiles_app
from shared.auth import Role
from shared.clock import FrozenClock
from shared.settings import ServiceSettings
from tests.helpers import eventually
from tests.integration.service_harness import START, auth

PUBLIC = "http://127.0.0.1:8006"
"""The portal's public URL: a loopback redirect URI the provider's portal client accepts on any port."""
MENTOR, MENTEE = "E20001", "E20002"  # the provider's test accounts "mentor" and "mentee" (tests/conftest.py)
OTHER_MENTORS = ("E30001", "E30002")
ADMIN = auth("director-1", Role.admin)


class Services(httpx.AsyncBaseTransport):
    """Routes the portal's calls by host (``http://profiles`` …) to the in-process apps; an unknown host is down."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.transports = {name: httpx.ASGITransport(app=app) for name, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.transports.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"{request.url.host} is not running", request=request)
        return await transport.handle_async_request(request)


@dataclass
class Stack:
    provider: OidcProvider
    apps: dict[str, FastAPI]
    portal: FastAPI
    portal_down: FastAPI  # the same portal (same sessions) with matching unreachable
    services: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def client(self, app: FastAPI | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app or self.portal)
        return httpx.AsyncClient(transport=transport, base_url="http://portal", timeout=30)


def _settings(name: str, dsn: str, bootstrap: str, provider: OidcProvider, **more: object) -> ServiceSettings:
    env = provider.service_env()
    return ServiceSettings(
        service_name=name,
        pg_dsn=dsn,
        kafka_bootstrap=bootstrap,
        dev_mode=True,
        oidc_issuer=env["MENTORSHIP_OIDC_ISSUER"],
        oidc_subject_claim=env["MENTORSHIP_OIDC_SUBJECT_CLAIM"],
        consumer_session_timeout_ms=2_000,
        relay_poll_seconds=0.1,
        timer_poll_seconds=3_600,
        **more,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(postgres: Postgres, broker, oidc_provider: OidcProvider) -> AsyncIterator[Stack]:
    prefix = f"t_portal_{uuid.uuid4().hex[:8]}"
    created = []
    async with AsyncExitStack() as exits:
        apps: dict[str, FastAPI] = {}
        for name, build in (("profiles", profiles_app), ("matching", matching_app)):
            dsn = await postgres.create_database_async(f"{prefix}_{name}")
            created.append(f"{prefix}_{name}")
            # matching opens profiles' sealed fields (names, biographies) with keys asked of profiles, in-process
            sources = {"key_sources": {"profiles": "http://profiles"}} if name == "matching" else {}
            app = build(_settings(name, dsn, broker.bootstrap, oidc_provider, **sources), FrozenClock(START))
            if name == "matching":
                app.state.runtime.key_transport = httpx.ASGITransport(app=apps["profiles"])
            await exits.enter_async_context(app.router.lifespan_context(app))
            apps[name] = app
        dsn = await postgres.create_database_async(f"{prefix}_portal")
        created.append(f"{prefix}_portal")
        portal_env = oidc_provider.portal_env()
        settings = _settings(
            "portal",
            dsn,
            broker.bootstrap,
            oidc_provider,
            oidc_client_id=portal_env["MENTORSHIP_OIDC_CLIENT_ID"],
            oidc_client_secret=portal_env["MENTORSHIP_OIDC_CLIENT_SECRET"],
            oidc_scopes=portal_env["MENTORSHIP_OIDC_SCOPES"],
            public_url=PUBLIC,
        )
        urls = {f"{s}_url": f"http://{s}" for s in ("profiles", "matching", "relationships", "notifications")}
        portal = portal_app(settings, PortalSettings(**urls), Services(apps), FrozenClock(START))
        await exits.enter_async_context(portal.router.lifespan_context(portal))
        portal_down = portal_app(
            settings, PortalSettings(**urls), Services({"profiles": apps["profiles"]}), FrozenClock(START)
        )
        await exits.enter_async_context(portal_down.router.lifespan_context(portal_down))
        stack = Stack(oidc_provider, apps, portal, portal_down)
        for name, app in apps.items():
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            stack.services[name] = await exits.enter_async_context(client)
        await _people(stack)
        yield stack
    conn = await asyncpg.connect(postgres.admin_dsn)
    try:
        for database in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def _registration(pid: str, name: str, **profile: object) -> dict:
    return {
        "participant_id": pid,
        "employee_id": pid,
        "name": name,
        "email": f"{pid.lower()}@example.edu",
        "profile": {
            "biography": f"{name} works in cardiology.",
            "specialty": "cardiology",
            "interests": ["research", "teaching"],
            "career_stage": "senior",
            "time_zone": "Europe/Berlin",
            "languages": ["en", "de"],
        }
        | profile,
    }


async def _people(stack: Stack) -> None:
    """The test accounts' participants: the mentor and two more mentors, the mentee; matching knows them all."""
    profiles = stack.services["profiles"]
    for pid, name in ((MENTOR, "Maria Mentor"), *((p, f"Dr {p}") for p in OTHER_MENTORS)):
        body = _registration(pid, name) | {"capacity": 2, "availability": {"formats": ["video", "in_person"]}}
        answer = await profiles.post("/mentors", json=body, headers=ADMIN)
        assert answer.status_code == 201, answer.text
    mentee = _registration(MENTEE, "Theo Mentee", career_stage="early_career", biography="Cardiology fellow.")
    answer = await profiles.post("/mentees", json=mentee, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    matching = stack.services["matching"]

    async def known() -> bool:
        found = await matching.get("/directory/mentors", headers=ADMIN)
        suggestions = await matching.get(f"/mentees/{MENTEE}/suggestions", headers=ADMIN)
        return found.json()["total"] == 3 and suggestions.status_code == 200

    await eventually(known, timeout=60)


async def sign_in(portal: httpx.AsyncClient, issuer: str, username: str) -> None:
    """Through the portal's sign-in and the provider's form, as a browser would; the portal's cookie is kept."""
    form = await portal.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    started = await portal.post("/login", data={"csrf": csrf})
    assert started.status_code == 303, started.text
    async with httpx.AsyncClient(timeout=10) as browser:
        response = await browser.get(started.headers["location"])
        for _ in range(10):
            location = response.headers.get("location", "")
            if location.startswith(PUBLIC):
                break
            if response.status_code == 200 and "/interaction/" in str(response.url):
                response = await browser.post(
                    f"{response.url}/login".replace("/login/login", "/login"),
                    data={"username": username, "password": DEV_PASSWORD},
                )
                continue
            assert location, f"the sign-in stopped at {response.url} ({response.status_code}): {response.text[:300]}"
            response = await browser.get(httpx.URL(str(response.url)).join(location))
    callback = httpx.URL(location)
    done = await portal.get(callback.path, params=dict(callback.params))
    assert done.status_code == 303 and done.headers["location"] == "/", done.text
