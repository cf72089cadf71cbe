"""The HTTP edge on real processes over TCP: oversized and anonymous bodies refused unread, overload shed whole.

Profiles runs with a small admission (4 requests at once, 4 waiting at most 100 ms) so a burst of 80 commands
overloads it; the requests before the burst come one at a time and are never shed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from mentorship.stack import start_services
from shared.auth import Role, mint_token
from shared.settings import DEV_JWT_SECRET
from tests.raw_http import MIB, post

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'director-1', [Role.admin])}"}
PROFILE = {"biography": "b", "specialty": "cardiology", "career_stage": "early_career"}
SMALL_ADMISSION = {
    "MENTORSHIP_HTTP_MAX_IN_FLIGHT": "4",
    "MENTORSHIP_HTTP_MAX_QUEUED": "4",
    "MENTORSHIP_HTTP_QUEUE_SECONDS": "0.1",
}


@pytest.fixture(scope="module")
def services(postgres, broker, tmp_path_factory):
    with start_services(
        postgres,
        broker.bootstrap,
        Path(tmp_path_factory.mktemp("logs")),
        names=("profiles", "analytics"),
        database_prefix=f"edge_{uuid.uuid4().hex[:8]}",
        service_env_overrides={"profiles": SMALL_ADMISSION},
    ) as running:
        yield running


async def test_bodies_above_the_limit_are_413_without_being_sent(services) -> None:
    profiles, analytics = services["profiles"].url, services["analytics"].url
    json_type = {"Content-Type": "application/json"}
    for url, path, headers in (
        (profiles, "/mentees", json_type),  # anonymous
        (profiles, "/mentees", {**json_type, **ADMIN}),
        (profiles, f"/hr/imports/{uuid.uuid4()}/rows", json_type),  # a batch route: 16 MiB, not 300
        (analytics, "/login", {"Content-Type": "application/x-www-form-urlencoded"}),
    ):
        answer = await post(url, path, headers, 300 * MIB, send_body=False)
        assert answer.status == 413, (path, answer)


async def test_without_a_token_the_answer_is_401_without_the_body_being_sent(services) -> None:
    answer = await post(
        services["profiles"].url, "/mentees", {"Content-Type": "application/json"}, 900 * 1024, send_body=False
    )
    assert answer.status == 401 and answer.headers["www-authenticate"] == "Bearer"


async def test_a_300_mib_body_is_refused_while_it_streams_and_memory_stays_flat(services) -> None:
    service = psutil.Process(services["profiles"].process.pid)
    before = service.memory_info().rss
    answer = await post(
        services["profiles"].url, "/mentees", {"Content-Type": "application/json"}, 300 * MIB, send_body=True
    )
    grown = service.memory_info().rss - before
    print(f"413 after {answer.seconds * 1000:.0f} ms, {answer.body_sent // MIB} MiB sent; RSS {grown / MIB:+.1f} MiB")
    assert answer.status == 413
    assert answer.body_sent < 300 * MIB  # answered before the client had finished sending
    assert grown < 64 * MIB  # generous: reading the body took 850 MiB before


async def test_a_burst_beyond_capacity_is_shed_with_503_and_nothing_half_written(services, postgres) -> None:
    url = services["profiles"].url
    ids = [f"burst-{uuid.uuid4().hex[:10]}" for _ in range(80)]
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=80)) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{url}/mentees",
                    json={"participant_id": pid, "name": "Mentee", "email": f"{pid}@example.edu", "profile": PROFILE},
                    headers=ADMIN,
                )
                for pid in ids
            )
        )
    by_status = Counter(a.status_code for a in answers)
    print("burst of 80:", dict(by_status))
    assert set(by_status) == {201, 503}, by_status
    assert all(a.headers["retry-after"] == "1" for a in answers if a.status_code == 503)
    accepted = {pid for pid, a in zip(ids, answers, strict=True) if a.status_code == 201}
    conn = await asyncpg.connect(postgres.dsn_for(services["profiles"].database))
    try:
        streams = Counter(r["stream_id"] for r in await conn.fetch("SELECT stream_id FROM events"))
        rows = {r["participant_id"] for r in await conn.fetch("SELECT participant_id FROM participants")}
    finally:
        await conn.close()
    assert set(streams) & set(ids) == accepted == rows & set(ids)  # the refused left nothing; the accepted are whole
    assert {streams[pid] for pid in accepted} == {1}
