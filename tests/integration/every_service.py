"""Every service's app as ``bootstrap.py`` builds it, each on its own fresh database of the real Postgres server,
reached over ASGI: what the schema fuzzing (``test_api_fuzz``) and the hostile-input corpus
(``test_hostile_input``) send their requests to.

The apps run without their lifespan (no broker, consumers or relay: these tests are about what a caller's
request does), so each database is migrated here exactly as the runtime would migrate it at start-up, and the
runtime is handed the pool. Analytics gets a live (empty) generation, so its dashboard answers instead of
"not built yet".
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
from fastapi import FastAPI

from mentorship.devstack.postgres import Postgres
from services.analytics.bootstrap import build_app as analytics_app
from services.analytics.projecting.generations import create_generation, make_live
from services.matching.bootstrap import build_app as matching_app
from services.notifications.bootstrap import build_app as notifications_app
from services.profiles.bootstrap import build_app as profiles_app
from services.relationships.adapters.cipher import new_key
from services.relationships.bootstrap import build_app as relationships_app
from services.relationships.settings import RelationshipsSettings
from shared.auth import Role
from shared.clock import FrozenClock
from shared.db import create_pool, migrate, shared_migrations
from shared.settings import ServiceSettings
from tests.integration.service_harness import START, auth

SERVICES = ("profiles", "matching", "relationships", "notifications", "analytics")
EVERY_ROLE = auth("fuzzer", Role.admin, Role.hr_integration, Role.mentor, Role.mentee, Role.analyst)
PARTICIPANT = auth("fuzzer-participant", Role.mentor, Role.mentee)
"""A caller who is no admin: the routes' participant paths (their own profile, their own requests)."""
NOT_FUZZED = {("GET", "/readyz")}  # 503 there means "not ready", which an app without a broker is


@dataclass
class Api:
    name: str
    app: FastAPI
    client: httpx.AsyncClient


def build(name: str, dsn: str, bootstrap: str = "localhost:9092") -> FastAPI:
    """The service's app as its ``bootstrap.build_app`` wires it (``bootstrap``: the broker, for analytics'
    replays, the one route that reads topics)."""
    settings = ServiceSettings(service_name=name, pg_dsn=dsn, kafka_bootstrap=bootstrap)
    clock = FrozenClock(START)
    if name == "profiles":
        return profiles_app(settings, clock)
    if name == "matching":
        return matching_app(settings, clock)
    if name == "relationships":
        return relationships_app(settings, clock, RelationshipsSettings(confidential_keys=f"test:{new_key()}"))
    if name == "notifications":
        return notifications_app(settings, clock, run_worker=False)
    return analytics_app(settings)


@asynccontextmanager
async def every_service(postgres: Postgres, bootstrap: str) -> AsyncIterator[dict[str, Api]]:
    """Each service on a new database of ``postgres``; the databases are dropped afterwards."""
    names = {service: f"t_{service[:5]}_{uuid.uuid4().hex[:12]}" for service in SERVICES}
    async with AsyncExitStack() as stack:
        apis = {}
        for service, database in names.items():
            dsn = await postgres.create_database_async(database)
            app = build(service, dsn, bootstrap)
            pool = await create_pool(dsn, min_size=1, max_size=5)
            stack.push_async_callback(pool.close)
            await migrate(pool, shared_migrations() + app.state.runtime.migrations)
            app.state.runtime.pool = pool
            if service == "analytics":
                async with pool.acquire() as conn:
                    await make_live(conn, await create_generation(conn))
                stack.push_async_callback(app.state.container.replays.stop)  # a replay a request started
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a crash answers 500, as served
            client = httpx.AsyncClient(transport=transport, base_url=f"http://{service}")
            stack.push_async_callback(client.aclose)
            apis[service] = Api(service, app, client)
        try:
            yield apis
        finally:
            await stack.aclose()
            for database in names.values():
                await _drop(postgres, database)


async def _drop(postgres: Postgres, database: str) -> None:
    conn = await asyncpg.connect(postgres.admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()
