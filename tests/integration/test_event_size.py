"""Every event has a size bound, checked when it is appended (real Postgres; the profiles API in-process).

The bound is the message the relay will publish (key, envelope, headers): an event over
``max_event_bytes`` is refused with ``EventTooLarge`` (HTTP 413) and nothing of the command is written.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from hypothesis import given, settings
from hypothesis import strategies as st

from deploy.k8s import generate as k8s
from services.profiles.bootstrap import build_app
from shared.bus import (
    MESSAGE_OVERHEAD_BYTES,
    ensure_topics,
    max_message_bytes,
    message_headers,
    message_size,
    new_producer,
)
from shared.clock import FrozenClock
from shared.db import migrate, migrations_from_package
from shared.errors import EventTooLarge
from shared.events.profiles import FieldChange, MentorCapacityChanged, ProfileUpdated
from shared.eventstore import EventStore, _as_published, _size_bound, _with_data
from shared.settings import DEFAULT_MAX_EVENT_BYTES, ServiceSettings
from tests.integration.service_harness import auth

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def update(pid: str, text: str) -> ProfileUpdated:
    return ProfileUpdated(participant_id=pid, changes=[FieldChange(field="profile.biography", old=None, new=text)])


async def counts(pool) -> tuple[int, int]:
    return await pool.fetchval("SELECT count(*) FROM events"), await pool.fetchval("SELECT count(*) FROM outbox")


async def published_size(pool, store: EventStore, stream: str) -> int:
    """The size of the stream's last event as the relay builds its message."""
    row = await pool.fetchrow(
        "SELECT *, data::text AS data FROM events WHERE stream_id = $1 ORDER BY version DESC", stream
    )
    value = store.envelope_bytes(row, row["data"])
    return message_size(stream.encode(), value, message_headers(row["event_type"], row["event_id"]))


async def test_the_bound_is_the_published_message_to_the_byte(pool) -> None:
    """An event exactly at the limit is appended; the same event one byte over the limit is not."""
    store = EventStore("profiles", max_event_bytes=1_000_000)
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, "p-1", 0, [update("p-1", "x" * 5000)])
    size = await published_size(pool, store, "p-1")
    assert size > 5000

    store.max_event_bytes = size  # same stream-id length, same payload: the same size
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, "p-2", 0, [update("p-2", "x" * 5000)])
    assert await published_size(pool, store, "p-2") == size

    store.max_event_bytes = size - 1
    with pytest.raises(EventTooLarge) as refused:
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, "p-3", 0, [update("p-3", "x" * 5000)])
    assert (refused.value.size, refused.value.limit, refused.value.field) == (size, size - 1, "changes")
    assert await counts(pool) == (2, 2)


async def test_an_event_over_the_limit_rolls_the_whole_command_back(pool) -> None:
    """The other events of the command and the command's own writes in the transaction are not kept."""
    store = EventStore("profiles", max_event_bytes=4096)
    await pool.execute("CREATE TABLE side_effects (note text)")
    with pytest.raises(EventTooLarge, match=r"ProfileUpdated event .* over the limit of 4,096 bytes"):
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO side_effects VALUES ('state change of the command')")
            await store.append(
                conn, "p", 0, [MentorCapacityChanged(participant_id="p", old_capacity=1, new_capacity=2)]
            )
            await store.append(conn, "p", 1, [update("p", "ok"), update("p", "é" * 3000)])  # 6,000 bytes in UTF-8
    assert await counts(pool) == (0, 0)
    assert await pool.fetchval("SELECT count(*) FROM side_effects") == 0


async def test_starting_many_streams_is_bounded_too(pool) -> None:
    store = EventStore("profiles", max_event_bytes=4096)
    with pytest.raises(EventTooLarge):
        async with pool.acquire() as conn, conn.transaction():
            await store.start_streams(conn, [("a", update("a", "short")), ("b", update("b", "x" * 5000))])
    assert await counts(pool) == (0, 0)
    async with pool.acquire() as conn, conn.transaction():
        await store.start_streams(conn, [("a", update("a", "short")), ("b", update("b", "x" * 2500))])  # sealed: 3.4 kB
    assert await counts(pool) == (2, 2)


LIMIT = 2048


@pytest.fixture
async def profiles_api(pool, fresh_dsn):
    """The profiles app as bootstrap.py wires it, with ``MENTORSHIP_MAX_EVENT_BYTES`` = ``LIMIT``."""
    await migrate(pool, migrations_from_package("services.profiles.migrations"))
    settings = ServiceSettings(service_name="profiles", pg_dsn=fresh_dsn, max_event_bytes=LIMIT)
    app = build_app(settings, clock=FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
    app.state.runtime.pool = pool
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://profiles") as client:
        yield client


def registration(biography: str) -> dict:
    return {
        "name": "Ben Ito",
        "email": "ben@example.edu",
        "profile": {"biography": biography, "specialty": "oncology", "career_stage": "trainee"},
    }


async def test_the_api_answers_413_naming_what_was_too_large_and_writes_nothing(profiles_api, pool) -> None:
    refused = await profiles_api.post("/mentees", json=registration("b" * 3000), headers=auth("ben"))
    assert refused.status_code == 413, refused.text
    detail = refused.json()["detail"]
    assert "MenteeRegistered" in detail and f"over the limit of {LIMIT:,} bytes" in detail, detail
    assert "'profile.biography'" in detail and "MENTORSHIP_MAX_EVENT_BYTES" in detail, detail
    assert await counts(pool) == (0, 0)
    assert (await profiles_api.get("/participants/ben", headers=auth("ben"))).status_code == 404

    accepted = await profiles_api.post("/mentees", json=registration("A short biography."), headers=auth("ben"))
    assert accepted.status_code == 201, accepted.text
    assert await counts(pool) == (1, 1)


async def test_one_setting_sizes_the_check_the_producer_and_the_topics(broker, topic_name) -> None:
    """``max_event_bytes`` and what is derived from it, where topics are created and producers built."""
    limit = 300_000
    producer = new_producer(broker.bootstrap, max_event_bytes=limit)
    assert producer._max_request_size == max_message_bytes(limit) == limit + MESSAGE_OVERHEAD_BYTES
    await ensure_topics(broker.bootstrap, [topic_name], partitions=1, max_event_bytes=limit)
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic_name)])
    finally:
        await admin.close()
    configs = {entry[0]: entry[1] for resource in response.resources for entry in resource[4]}
    assert configs["max.message.bytes"] == str(max_message_bytes(limit))

    # The deployment files say the same: the services' setting, the Kubernetes topics job, docker-compose.
    config = {doc["kind"]: doc for doc in k8s.config()}["ConfigMap"]["data"]
    assert int(config["MENTORSHIP_MAX_EVENT_BYTES"]) == DEFAULT_MAX_EVENT_BYTES
    command = k8s.topics_job()["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert command.count(f"--config max.message.bytes={max_message_bytes(DEFAULT_MAX_EVENT_BYTES)}") == len(
        k8s.topics()
    )
    assert f"MENTORSHIP_MAX_EVENT_BYTES:-{DEFAULT_MAX_EVENT_BYTES}}}" in (ROOT / "docker-compose.yml").read_text()
    assert ServiceSettings(service_name="profiles", pg_dsn="postgresql://x").max_event_bytes == DEFAULT_MAX_EVENT_BYTES


@settings(max_examples=200, deadline=None)
@given(text=st.text(), stream=st.text(min_size=1, max_size=40))
def test_the_quick_bound_is_never_below_the_exact_size(text: str, stream: str) -> None:
    """The append check skips the exact measure when a quick bound is under the limit: the bound must
    never be below what the relay publishes (any text: commas, colons, control characters, non-ASCII)."""
    store = EventStore("profiles")
    event = update(stream, text)
    payload = event.model_dump_json()
    event_id = uuid.uuid4()
    head = store._head(event_id, stream, 1, "ProfileUpdated", 1, datetime.now(UTC), event_id, None)
    value = _with_data(head, _as_published(payload))
    exact = message_size(stream.encode(), value, message_headers("ProfileUpdated", event_id))
    assert _size_bound(payload, stream, "ProfileUpdated", store.source) >= exact
