"""The portal's pair and director pages on the real services: matching and relationships in-process on real
Postgres and the real broker (a match made in matching starts the relationship over the bus), the portal calling
them over HTTP (ASGI) as the signed-in person.

People are signed in as the sign-in would leave them: a server-side session in the portal's database and their
access tokens for each service's audience sealed beside it (development tokens, which the services accept in
development mode). The sign-in itself is tested with the real provider elsewhere.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest

from mentorship.devstack.postgres import _drop_database
from services.matching.bootstrap import build_app as build_matching
from services.portal.adapters.tokens import HeldTokens, TokenStore
from services.portal.bootstrap import build_app as build_portal
from services.portal.settings import CALLED, PortalSettings
from services.relationships.adapters.cipher import new_key
from services.relationships.bootstrap import build_app as build_relationships
from services.relationships.settings import RelationshipsSettings
from shared.auth import Principal, Role, mint_token
from shared.clock import FrozenClock
from shared.settings import DEV_JWT_SECRET
from shared.web_session import PostgresSessionStore
from shared.web_signin import SESSION_COOKIE
from tests.helpers import eventually
from tests.integration import service_harness
from tests.integration.matching.conftest import mentee_registered, mentor_registered
from tests.integration.service_harness import START, auth, settings_for

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
IDS = re.compile(r'\sid="([^"]+)"')


class Routes(httpx.AsyncBaseTransport):
    """The portal's way to the services: each host an in-process app; a host in ``down`` does not answer."""

    def __init__(self, apps: dict[str, httpx.ASGITransport]) -> None:
        self.apps, self.down = apps, set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"{host} is not answering", request=request)
        return await self.apps[host].handle_async_request(request)


@dataclass
class Browser:
    """One signed-in person's browser on the portal: the session cookie, and the CSRF token of their session."""

    client: httpx.AsyncClient
    csrf: str

    async def get(self, path: str) -> httpx.Response:
        """The page; on every page shown, no element id repeats (labels, errors and skip links point at ids)."""
        page = await self.client.get(path)
        ids = IDS.findall(page.text)
        assert len(ids) == len(set(ids)), f"ids repeated on {path}: {sorted({i for i in ids if ids.count(i) > 1})}"
        return page

    async def post(self, path: str, data: dict | list | None = None) -> httpx.Response:
        """A form post (``data`` a dict, or (name, value) pairs for repeated names) with the session's token."""
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        return await self.client.post(
            path,
            content=urlencode([("csrf", self.csrf), *pairs]),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )


@dataclass
class Stack:
    matching: service_harness.Service
    relationships: service_harness.Service
    portal: object
    routes: Routes
    clock: FrozenClock
    browsers: list[httpx.AsyncClient] = field(default_factory=list)

    async def sign_in(self, subject: str, *roles: Role) -> Browser:
        portal_app = self.portal
        pool = portal_app.state.runtime.pool
        session_id, session = await PostgresSessionStore(lambda: pool).start(
            Principal(subject=subject, roles=frozenset(roles)), timedelta(hours=1)
        )
        token = mint_token(DEV_JWT_SECRET, subject, list(roles))
        ends = START.timestamp() + 10**9  # the portal's clock is the system's: far ahead of any test
        audiences = {f"urn:mentorship:{s}": (token, ends) for s in CALLED}
        await TokenStore(lambda: pool).save(session_id, HeldTokens(None, audiences))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=portal_app),
            base_url="http://portal",
            cookies={SESSION_COOKIE: session_id},
            timeout=60,
        )
        self.browsers.append(client)
        return Browser(client, session.csrf_token)

    async def people(self, mentors: int, mentees: int) -> tuple[list[str], list[str]]:
        """New mentors and mentees registered in matching (from profiles' events on the real topic)."""
        mentor_ids = [f"mentor-{uuid.uuid4().hex[:8]}" for _ in range(mentors)]
        mentee_ids = [f"mentee-{uuid.uuid4().hex[:8]}" for _ in range(mentees)]
        await self.matching.feed(
            *(mentor_registered(m) for m in mentor_ids), *(mentee_registered(m) for m in mentee_ids)
        )
        return mentor_ids, mentee_ids

    async def match(self, mentor_id: str, mentee_id: str) -> str:
        """A director-reviewed match over matching's API; the relationship it starts (waited for)."""
        api = self.matching.client
        asked = await api.post(
            "/requests",
            headers=auth(mentee_id, Role.mentee),
            json={"biography": "Cardiology fellow", "motivation": "Grant writing", "ranked_mentor_ids": [mentor_id]},
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["request_id"]
        director = auth("director-1", Role.admin)
        assert (await api.post(f"/requests/{request_id}/review", headers=director, json={"approved": True})).is_success
        accepted = await api.post(
            f"/requests/{request_id}/response", headers=auth(mentor_id, Role.mentor), json={"accepted": True}
        )
        assert accepted.status_code == 200, accepted.text
        return await self.relationship_of(mentor_id)

    async def relationship_of(self, mentor_id: str) -> str:
        found: list[str] = []

        async def started() -> bool:
            answer = await self.relationships.client.get("/relationships", headers=auth(mentor_id, Role.mentor))
            found[:] = [r["relationship_id"] for r in answer.json()["items"] if r["phase"] != "closed"]
            return bool(found)

        await eventually(started, timeout=40)
        return found[0]


@pytest.fixture(scope="module")
async def stack(postgres, broker) -> AsyncIterator[Stack]:
    clock = FrozenClock(START)
    names = {s: f"t_{s}_{uuid.uuid4().hex[:12]}" for s in ("matching", "relationships", "portal")}
    dsns = {s: await postgres.create_database_async(n) for s, n in names.items()}
    try:
        async with AsyncExitStack() as stack:
            matching = await stack.enter_async_context(
                service_harness.running(
                    service_harness.Service,
                    build_matching(settings_for("matching", dsns["matching"], broker.bootstrap), clock),
                    clock,
                    broker.bootstrap,
                    base_url="http://matching",
                    timeout=60,
                )
            )
            options = RelationshipsSettings(confidential_keys=f"test:{new_key()}")
            relationships = await stack.enter_async_context(
                service_harness.running(
                    service_harness.Service,
                    build_relationships(
                        settings_for("relationships", dsns["relationships"], broker.bootstrap), clock, options
                    ),
                    clock,
                    broker.bootstrap,
                    base_url="http://relationships",
                    timeout=60,
                )
            )
            routes = Routes(
                {
                    "matching": httpx.ASGITransport(app=matching.app),
                    "relationships": httpx.ASGITransport(app=relationships.app),
                }
            )
            portal_options = PortalSettings(
                profiles_url="http://profiles",
                matching_url="http://matching",
                relationships_url="http://relationships",
                notifications_url="http://notifications",
            )
            portal_settings = settings_for("portal", dsns["portal"], broker.bootstrap)
            portal = build_portal(portal_settings, portal_options, routes, clock=clock)
            await stack.enter_async_context(portal.router.lifespan_context(portal))
            running = Stack(matching, relationships, portal, routes, clock)
            yield running
            for client in running.browsers:
                await client.aclose()
    finally:
        for name in names.values():
            await _drop_database(postgres.admin_dsn, name)


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "no CSRF field on the page"
    return found.group(1)
