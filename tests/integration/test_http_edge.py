"""The HTTP edge on every service's app as bootstrap.py builds it (``shared.edge``, ``shared.limits``).

Each request is handed to the app over ASGI with a body the test produces chunk by chunk and counts as the
app pulls it, so "refused before the body is read" is a count of zero, not a guess.  The apps need no database
for these: every request here is refused before its route runs.  Overload and an exhausted pool run profiles
on a real database: what is refused with 503 leaves nothing behind, what is accepted is whole.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from shared.auth import Role
from shared.db import PoolExhausted, acquire_bound, migrate, migrations_from_package
from shared.limits import BULK_BODY_BYTES, MIB
from shared.settings import ServiceSettings
from tests.integration.service_harness import auth

SERVICES = ("profiles", "matching", "relationships", "notifications", "analytics")
ROUTES = {  # per service, a route that takes a JSON body and a caller it lets in
    "profiles": ("POST", "/mentees", Role.admin),
    "matching": ("POST", "/requests", Role.mentee),
    "relationships": ("POST", "/relationships", Role.admin),
    "notifications": ("PUT", "/participants/p-1/preferences", Role.mentee),
    "analytics": ("POST", "/replays", Role.analyst),
}
CHUNK = 64 * 1024
JSON = {"content-type": "application/json"}


def build(service: str, **settings) -> FastAPI:
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    return bootstrap.build_app(ServiceSettings(service_name=service, pg_dsn="postgresql://unused/unused", **settings))


@pytest.fixture(scope="module")
def apps() -> dict[str, FastAPI]:
    return {service: build(service) for service in SERVICES}


@dataclass
class Sent:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    pulled: int = 0  # body bytes the app asked for

    def json(self):
        return json.loads(self.body)


async def send(
    app: FastAPI, method: str, path: str, headers: dict[str, str], size: int, *, declared: bool = True
) -> Sent:
    """``size`` bytes of body, produced only as the app reads them; ``declared``: with a Content-Length."""
    sent = Sent()
    given = 0

    async def receive() -> dict:
        nonlocal given
        if given >= size:
            return {"type": "http.disconnect"} if given else {"type": "http.request", "body": b""}
        chunk = b"x" * min(CHUNK, size - given)
        given += len(chunk)
        sent.pulled = given
        return {"type": "http.request", "body": chunk, "more_body": given < size}

    async def reply(message: dict) -> None:
        if message["type"] == "http.response.start":
            sent.status = message["status"]
            sent.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            sent.body += message.get("body", b"")

    listed = {**headers, **({"content-length": str(size)} if declared else {"transfer-encoding": "chunked"})}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in listed.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("edge-test", 80),
    }
    await app(scope, receive, reply)
    return sent


@pytest.mark.parametrize("service", SERVICES)
async def test_a_body_over_the_limit_is_413_before_authentication_and_never_read(apps, service: str) -> None:
    method, path, _ = ROUTES[service]
    sent = await send(apps[service], method, path, JSON, 300 * MIB)  # anonymous
    assert (sent.status, sent.pulled) == (413, 0)


@pytest.mark.parametrize("service", SERVICES)
async def test_without_a_valid_token_the_body_is_never_read(apps, service: str) -> None:
    method, path, role = ROUTES[service]
    app = apps[service]
    missing = await send(app, method, path, JSON, 900 * 1024)
    assert (missing.status, missing.pulled) == (401, 0), missing.body
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = await send(app, method, path, {**JSON, "authorization": "Bearer not.a.token"}, 900 * 1024)
    assert (forged.status, forged.pulled) == (401, 0)
    chunked = await send(app, method, path, JSON, 50 * MIB, declared=False)  # no length to judge it by
    assert (chunked.status, chunked.pulled) == (401, 0)
    wrong_role = Role.hr_integration if role != Role.hr_integration else Role.mentor
    refused = await send(app, method, path, {**JSON, **auth("someone", wrong_role)}, 900 * 1024)
    assert (refused.status, refused.pulled) == (403, 0)


@pytest.mark.parametrize("service", SERVICES)
async def test_a_chunked_body_is_cut_at_the_limit(apps, service: str) -> None:
    method, path, role = ROUTES[service]
    sent = await send(apps[service], method, path, {**JSON, **auth("someone", role)}, 300 * MIB, declared=False)
    assert sent.status == 413
    assert MIB < sent.pulled <= MIB + CHUNK  # read up to the limit, not a chunk further


async def test_batch_routes_take_more_and_no_more() -> None:
    profiles = build("profiles", http_max_body_bytes=64 * 1024)
    importer = {**JSON, **auth("hr", Role.hr_integration)}
    rows = f"/hr/imports/{uuid.uuid4()}/rows"
    assert (await send(profiles, "POST", rows, importer, BULK_BODY_BYTES + 1)).status == 413
    larger = await send(profiles, "POST", rows, importer, 2 * MIB)  # above the default, within the batch limit
    assert larger.status == 400 and larger.pulled == 2 * MIB  # read in full, then refused as not JSON
    assert (await send(profiles, "POST", "/mentees", {**JSON, **auth("d", Role.admin)}, 2 * MIB)).status == 413


async def test_a_route_that_takes_no_body_refuses_a_large_one_before_it_runs() -> None:
    matching = build("matching")
    director = {**JSON, **auth("d", Role.admin)}
    sent = await send(matching, "POST", f"/bulk-runs/{uuid.uuid4()}/commit", director, 300 * MIB)
    assert (sent.status, sent.pulled) == (413, 0)  # not a 404 from the run lookup: the route never ran


MALFORMED = {  # what a client may send → the status, and what the answer says
    "nested 100,000 levels": (b"[" * 100_000 + b"]" * 100_000, JSON, 400, "nests deeper"),
    "a 1,000,000-digit integer": (b'{"a": ' + b"9" * 1_000_000 + b"}", JSON, 400, "number too large"),
    "a NUL character": (b'{"name": "Ada\\u0000"}', JSON, 422, "NUL"),
    "a raw NUL byte": (b'{"name": "Ada\x00"}', JSON, 400, "not valid JSON"),
    "invalid UTF-8": (b'{"name": "Ad\xe9"}', JSON, 400, "UTF-8"),
    "a key twice": (b'{"name": "a", "name": "b"}', JSON, 400, "'name' twice"),
    "text/plain": (b'{"name": "a"}', {"content-type": "text/plain"}, 415, "Content-Type must be"),
    "no content type": (b'{"name": "a"}', {}, 415, "not missing"),
    "not JSON": (b"{name: a}", JSON, 400, "not valid JSON"),
}


@pytest.mark.parametrize("service", SERVICES)
async def test_malformed_bodies_are_4xx_with_a_reason_on_every_service(apps, service: str) -> None:
    method, path, role = ROUTES[service]
    transport = httpx.ASGITransport(app=apps[service], raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as client:
        for kind, (body, headers, status, says) in MALFORMED.items():
            response = await client.request(method, path, content=body, headers={**headers, **auth("x", role)})
            assert response.status_code == status, (kind, response.text[:300])
            assert says in response.text, (kind, response.text[:300])


# --- profiles on a real database: overload and an exhausted pool ------------------------------------------


@pytest_asyncio.fixture
async def profiles_pool(pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pool, migrations_from_package("services.profiles.migrations"))
    return pool


@pytest_asyncio.fixture
async def overloadable(profiles_pool, fresh_dsn) -> AsyncIterator[tuple[httpx.AsyncClient, asyncpg.Pool]]:
    """Profiles serving 2 requests at once, 2 more waiting at most 50 ms; a request waits 300 ms for the pool."""
    settings = ServiceSettings(
        service_name="profiles",
        pg_dsn=fresh_dsn,
        http_max_in_flight=2,
        http_max_queued=2,
        http_queue_seconds=0.05,
        db_acquire_timeout_seconds=0.3,
    )
    app = importlib.import_module("services.profiles.bootstrap").build_app(settings)
    app.state.runtime.pool = profiles_pool
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://profiles", timeout=30) as client:
        yield client, profiles_pool


def mentee(n: int) -> dict:
    return {
        "participant_id": f"edge-mentee-{n:03d}",
        "name": f"Mentee {n}",
        "email": f"edge-mentee-{n}@example.edu",
        "profile": {"biography": "b", "specialty": "cardiology", "career_stage": "early_career"},
    }


async def stored(pool: asyncpg.Pool) -> tuple[Counter[str], set[str], int]:
    """(events per stream, participants in the read model, outbox rows)."""
    events = Counter(r["stream_id"] for r in await pool.fetch("SELECT stream_id FROM events"))
    rows = {r["participant_id"] for r in await pool.fetch("SELECT participant_id FROM participants")}
    return events, rows, await pool.fetchval("SELECT count(*) FROM outbox")


async def test_overload_is_refused_whole_with_retry_after(overloadable) -> None:
    client, pool = overloadable
    director = auth("director", Role.admin)
    answers = await asyncio.gather(*(client.post("/mentees", json=mentee(n), headers=director) for n in range(60)))
    by_status = Counter(a.status_code for a in answers)
    assert set(by_status) == {201, 503}, by_status
    for answer in answers:
        if answer.status_code == 503:
            assert answer.headers["retry-after"] == "1" and "at capacity" in answer.json()["detail"]
    accepted = {mentee(n)["participant_id"] for n, a in enumerate(answers) if a.status_code == 201}
    events, rows, outbox = await stored(pool)
    assert set(events) == accepted == rows, (events, rows)  # a participant's stream is named by its id
    assert sum(events.values()) == outbox == len(accepted)  # one event each, each in the outbox: nothing half


async def test_a_request_that_cannot_get_a_connection_is_503_and_writes_nothing(overloadable) -> None:
    client, pool = overloadable
    director = auth("director", Role.admin)
    held = [await pool.acquire() for _ in range(pool.get_max_size())]  # outside a request: no bound
    try:
        answer = await client.post("/mentees", json=mentee(1), headers=director)
    finally:
        for conn in held:
            await pool.release(conn)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert "no database connection came free within 0.3 s" in answer.json()["detail"]
    assert await stored(pool) == (Counter(), set(), 0)
    assert (await client.post("/mentees", json=mentee(1), headers=director)).status_code == 201


async def test_only_the_requests_own_task_waits_a_bounded_time_for_a_connection(pool: asyncpg.Pool) -> None:
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        with acquire_bound(0.1):
            with pytest.raises(PoolExhausted):
                await pool.acquire()
            started_by_the_request = asyncio.create_task(pool.fetchval("SELECT 1"))  # e.g. an analytics replay
        await asyncio.sleep(0.3)
        assert not started_by_the_request.done()  # still waiting, as background work does
        await pool.release(held.pop())
        assert await started_by_the_request == 1
    finally:
        for conn in held:
            await pool.release(conn)
