"""Walking skeleton: profiles and matching as separate OS processes, over HTTP and the real broker."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from mentorship.stack import start_services
from shared.auth import Role, mint_token
from shared.bus import new_producer, topic_for
from shared.settings import DEV_JWT_SECRET
from tests.helpers import cardiologist_profile, consume_all, eventually

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'director-1', [Role.admin])}"}
MENTEE = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'mentee-1', [Role.mentee])}"}


def mentor_body(email: str, **overrides) -> dict:
    body = {
        "name": "Dr. Ada Okafor",
        "email": email,
        "capacity": 3,
        "profile": cardiologist_profile(),
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def services(postgres, broker, tmp_path_factory):
    log_dir = Path(tmp_path_factory.mktemp("logs"))
    prefix = f"e2e_{uuid.uuid4().hex[:8]}"
    with start_services(
        postgres,
        broker.bootstrap,
        log_dir,
        names=("profiles", "matching"),
        database_prefix=prefix,
        extra_env={"MENTORSHIP_CONSUMER_SESSION_TIMEOUT_MS": "2000"},
    ) as running:
        yield running


def duplicates_seen(matching_url: str) -> float:
    return _duplicates(httpx.get(f"{matching_url}/metrics").text)


async def duplicates_counted(client: httpx.AsyncClient, matching_url: str) -> float:
    return _duplicates((await client.get(f"{matching_url}/metrics")).text)


def _duplicates(metrics: str) -> float:
    found = re.findall(r'mentorship_consumed_events_total\{[^}]*outcome="duplicate"[^}]*\} (\S+)', metrics)
    return sum(float(v) for v in found)


async def test_registered_mentor_appears_in_matching_directory_once(services, postgres, broker) -> None:
    profiles, matching = services["profiles"].url, services["matching"].url
    async with httpx.AsyncClient(timeout=10) as client:
        correlation = str(uuid.uuid4())
        created = await client.post(
            f"{profiles}/mentors",
            json=mentor_body("ada@example.edu"),
            headers={**ADMIN, "X-Correlation-ID": correlation},
        )
        assert created.status_code == 201, created.text
        assert created.headers["X-Correlation-ID"] == correlation
        mentor_id = created.json()["participant_id"]

        async def listed() -> bool:
            page = (await client.get(f"{matching}/directory/mentors", headers=MENTEE)).json()
            return any(m["mentor_id"] == mentor_id for m in page["items"])

        await eventually(listed, timeout=30)
        page = (await client.get(f"{matching}/directory/mentors", headers=MENTEE)).json()
        [entry] = [m for m in page["items"] if m["mentor_id"] == mentor_id]
        assert entry["specialty"] == "cardiology" and entry["capacity"] == 3
        assert entry["biography"].startswith("Cardiologist")

    # The same event delivered a second time changes nothing in matching.
    [record] = [
        r
        for r in await consume_all(broker.bootstrap, topic_for("profiles"), expected=1)
        if json.loads(r.value)["subject"] == mentor_id
    ]
    assert json.loads(record.value)["correlationid"] == correlation
    consumed = [
        json.loads(line)
        for line in services["matching"].process.log_path.read_text().splitlines()
        if line.startswith("{") and correlation in line
    ]
    assert any(
        entry["event"] == "event consumed"
        and entry["outcome"] == "handled"
        and entry["service"] == "matching"
        and entry["event_type"] == "MentorRegistered"
        and entry["event_id"] == json.loads(record.value)["id"]
        for entry in consumed
    ), consumed

    before = duplicates_seen(matching)
    producer = new_producer(broker.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic_for("profiles"), value=record.value, key=record.key, headers=list(record.headers)
        )
    finally:
        await producer.stop()

    async def duplicate_counted() -> bool:
        return duplicates_seen(matching) == before + 1

    await eventually(duplicate_counted, timeout=30)
    conn = await asyncpg.connect(postgres.dsn_for(services["matching"].database))
    try:
        assert await conn.fetchval("SELECT count(*) FROM mentor_directory WHERE mentor_id = $1", mentor_id) == 1
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = $1", uuid.UUID(json.loads(record.value)["id"])
            )
            == 1
        )
    finally:
        await conn.close()


def test_bad_registration_is_422_naming_the_field(services) -> None:
    profiles = services["profiles"].url
    response = httpx.post(f"{profiles}/mentors", json=mentor_body("not-an-email", capacity=-1), headers=ADMIN)
    assert response.status_code == 422
    fields = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert ("body", "email") in fields and ("body", "capacity") in fields


def test_duplicate_registration_is_409(services) -> None:
    profiles = services["profiles"].url
    first = httpx.post(f"{profiles}/mentors", json=mentor_body("bo@example.edu"), headers=ADMIN)
    again = httpx.post(
        f"{profiles}/mentors",
        json=mentor_body("bo@example.edu", participant_id=first.json()["participant_id"]),
        headers=ADMIN,
    )
    other = httpx.post(f"{profiles}/mentors", json=mentor_body("bo@example.edu"), headers=ADMIN)
    assert first.status_code == 201
    assert again.status_code == 409 and "already registered as a mentor" in again.json()["detail"]
    assert other.status_code == 409 and "bo@example.edu" in other.json()["detail"]


def test_missing_token_is_401_and_wrong_role_is_403(services) -> None:
    profiles = services["profiles"].url
    assert httpx.post(f"{profiles}/mentors", json=mentor_body("c@example.edu")).status_code == 401
    bad = httpx.post(
        f"{profiles}/mentors", json=mentor_body("c@example.edu"), headers={"Authorization": "Bearer x.y.z"}
    )
    assert bad.status_code == 401
    assert httpx.post(f"{profiles}/mentors", json=mentor_body("c@example.edu"), headers=MENTEE).status_code == 403


def test_health_and_readiness(services) -> None:
    for service in services.values():
        assert httpx.get(f"{service.url}/healthz").json()["status"] == "ok"
        ready = httpx.get(f"{service.url}/readyz").json()
        consumer = {} if service.name == "analytics" else {"consumer": True}  # the watchdog's word, where it watches
        assert ready["ready"] is True and ready["checks"] == {"database": True, "broker": True, **consumer}


def test_metrics_show_relay_consumer_and_http_figures(services) -> None:
    """Runs after the registration above: the relay, the consumer and the API each left figures."""
    profiles = httpx.get(f"{services['profiles'].url}/metrics").text
    matching = httpx.get(f"{services['matching'].url}/metrics").text

    published = re.search(r'mentorship_outbox_published_total\{service="profiles"\} (\S+)', profiles)
    assert published and float(published.group(1)) >= 1
    latency = re.search(r'mentorship_relay_latency_seconds_count\{service="profiles"\} (\S+)', profiles)
    assert latency and float(latency.group(1)) == float(published.group(1))
    assert 'mentorship_outbox_backlog{service="profiles"} 0.0' in profiles
    assert re.search(
        r'mentorship_http_request_seconds_count\{method="POST",route="/mentors",service="profiles",'
        r'status="201"\} [1-9]',
        profiles,
    )
    assert re.search(
        r'mentorship_consumer_lag\{group="matching",partition="\d+",topic="profiles.events"\} 0.0', matching
    )


async def test_republish_is_admin_only_and_refilled_events_change_nothing_downstream(services, postgres) -> None:
    profiles, matching = services["profiles"].url, services["matching"].url
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.post(f"{profiles}/admin/republish", headers=MENTEE)).status_code == 403
    conn = await asyncpg.connect(postgres.dsn_for(services["profiles"].database))
    try:  # an event still waiting in the outbox goes out once anyway: republish queues only what was published

        async def outbox_drained() -> bool:
            return await conn.fetchval("SELECT count(*) FROM outbox") == 0

        await eventually(outbox_drained, timeout=30)
        stored = await conn.fetchval("SELECT count(*) FROM events")
    finally:
        await conn.close()
    async with httpx.AsyncClient(timeout=10) as client:
        before = await duplicates_counted(client, matching)
        response = await client.post(f"{profiles}/admin/republish", headers=ADMIN)
        assert response.status_code == 202 and response.json()["queued"] == stored >= 2

        async def all_seen_again() -> bool:  # matching recognises every copy by its event id
            return await duplicates_counted(client, matching) >= before + stored

        await eventually(all_seen_again, timeout=30)
        page = (await client.get(f"{matching}/directory/mentors", headers=MENTEE)).json()
    assert len({m["mentor_id"] for m in page["items"]}) == page["total"]  # no mentor twice
