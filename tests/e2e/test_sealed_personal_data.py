"""Personal data sealed per person at rest and on the bus, as separate processes over HTTP and the real broker.

A mentee with a unique marker in every personal field the flow reaches (name, e-mail, biography; a request's
biography and motivation; a decline reason; goals) goes through registration, two requests (one declined), a
match, an agreement and a goal.  Then: no event store holds a readable marker, no raw record on any topic
does; the consumers that need the data (matching's directory, notifications' contacts and request biography)
have it, and an entitled reader opens it from the topics with the producers' keys.  After the erasure every
service has shredded the mentee's key, the topics are republished, and nothing read back from any topic, raw
or opened with every producer's keys, yields a marker; the streams still load (placeholders, not errors).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from mentorship.stack import start_services
from shared.auth import Role, mint_token
from shared.bus import topic_for
from shared.envelope import Envelope
from shared.keysource import BusOpener, KeySource, ServiceTokens
from shared.settings import DEV_JWT_SECRET, ServiceSettings
from tests.helpers import cardiologist_profile, consume_all, eventually

pytestmark = pytest.mark.e2e

PUBLISHERS = ("profiles", "matching", "relationships", "notifications")
MARK = f"mk{uuid.uuid4().hex[:12]}"
MENTOR_ID, MENTEE_ID = f"mentor-{uuid.uuid4().hex[:8]}", "mentee-sealed-1"


def marker(field: str) -> str:
    return f"{MARK}-{field}"


def bearer(subject: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, subject, [role])}"}


ADMIN = bearer("director-1", Role.admin)
MENTOR = bearer(MENTOR_ID, Role.mentor)
MENTEE = bearer(MENTEE_ID, Role.mentee)


@pytest.fixture(scope="module")
def stack(postgres, broker, tmp_path_factory):
    with start_services(
        postgres,
        broker.bootstrap,
        Path(tmp_path_factory.mktemp("logs")),
        names=PUBLISHERS,
        database_prefix=f"sealed_{uuid.uuid4().hex[:8]}",
        extra_env={"MENTORSHIP_CONSUMER_SESSION_TIMEOUT_MS": "2000"},
    ) as running:
        yield running


async def query(postgres, stack, service: str, sql: str, *args) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(postgres.dsn_for(stack[service].database))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def stored_markers(postgres, stack) -> dict[str, int]:
    """Per service: events whose stored payload holds a marker."""
    found = {}
    for service in PUBLISHERS:
        rows = await query(postgres, stack, service, "SELECT data::text AS data FROM events")
        assert rows or service == "notifications", f"{service} stored nothing"
        found[service] = sum(MARK in r["data"] for r in rows)
    return found


async def topic_records(broker, stack, postgres) -> list:
    records = []
    for service in PUBLISHERS:
        [count] = await query(postgres, stack, service, "SELECT count(*) AS n FROM events")
        records += await consume_all(broker.bootstrap, topic_for(service), expected=count["n"], timeout=30)
    return records


def entitled_reader(stack) -> tuple[BusOpener, httpx.AsyncClient]:
    """A consumer entitled to every producer's keys (a development token with role ``service``)."""
    client = httpx.AsyncClient(timeout=10)
    settings = ServiceSettings(service_name="reader", pg_dsn="postgresql://unused", dev_mode=True)
    sources = {name: [stack[name].url] for name in PUBLISHERS}
    return BusOpener(KeySource(sources, ServiceTokens(settings, client), client, cache_seconds=0)), client


async def opened(stack, records) -> list[dict]:
    opener, client = entitled_reader(stack)
    try:
        return [(await opener.open(Envelope.from_bytes(r.value))).data for r in records]
    finally:
        await client.aclose()


async def test_personal_fields_are_sealed_everywhere_and_unreadable_after_erasure(stack, postgres, broker) -> None:
    profiles, matching, relationships = (stack[n].url for n in ("profiles", "matching", "relationships"))
    async with httpx.AsyncClient(timeout=15) as client:
        mentor = {"name": "Dr. Ada Okafor", "email": f"ada.{uuid.uuid4().hex[:8]}@example.edu", "capacity": 3}
        created = await client.post(
            f"{profiles}/mentors", json={**mentor, "profile": cardiologist_profile()}, headers=MENTOR
        )
        assert created.status_code == 201, created.text
        mentee = {
            "name": marker("name"),
            "email": f"{marker('email')}@example.edu",
            "profile": cardiologist_profile(biography=marker("biography"), career_stage="early_career"),
        }
        created = await client.post(f"{profiles}/mentees", json=mentee, headers=MENTEE)
        assert created.status_code == 201, created.text

        request = {"biography": marker("request-biography"), "motivation": marker("motivation")}
        request["ranked_mentor_ids"] = [MENTOR_ID]

        got: dict[str, str] = {}

        async def submitted() -> bool:  # once matching has both in its directory
            answer = await client.post(f"{matching}/requests", json=request, headers=MENTEE)
            got["request"] = answer.json().get("request_id") if answer.status_code == 201 else None
            return answer.status_code == 201

        await eventually(submitted, timeout=30)
        first = got["request"]
        declined = await client.post(
            f"{matching}/requests/{first}/review",
            json={"approved": False, "decline_reason": marker("decline-reason")},
            headers=ADMIN,
        )
        assert declined.status_code == 200, declined.text
        await eventually(submitted, timeout=30)
        second = got["request"]
        approved = await client.post(f"{matching}/requests/{second}/review", json={"approved": True}, headers=ADMIN)
        assert approved.status_code == 200, approved.text
        accepted = await client.post(f"{matching}/requests/{second}/response", json={"accepted": True}, headers=MENTOR)
        assert accepted.status_code == 200, accepted.text

        async def started() -> bool:
            items = (await client.get(f"{relationships}/relationships", headers=ADMIN)).json()["items"]
            got["relationship"] = items[0]["relationship_id"] if items else None
            return bool(items)

        await eventually(started, timeout=30)
        relationship = got["relationship"]
        goal = {"goal_id": "g1", "text": marker("goal-text"), "measure": marker("goal-measure")}
        terms = {"format": "video", "goals": [{**goal, "due_on": "2027-12-01"}]}
        at = f"{relationships}/relationships/{relationship}"
        proposed = await client.put(f"{at}/agreement", json=terms, headers=MENTOR)
        assert proposed.status_code == 200, proposed.text
        for who in (MENTOR, MENTEE):
            signature = {
                "revision": proposed.json()["revision"],
                "confidentiality_accepted": True,
                "no_fault_termination_acknowledged": True,
            }
            signed = await client.post(f"{at}/agreement/signatures", json=signature, headers=who)
            assert signed.status_code == 200, signed.text
        new_goal = {"text": marker("goal-set-text"), "measure": marker("goal-set-measure"), "due_on": "2027-06-01"}
        set_goal = await client.post(f"{at}/goals", json=new_goal, headers=MENTEE)
        assert set_goal.status_code == 201, set_goal.text

        # At rest: every event store holds the personal fields sealed.
        assert await stored_markers(postgres, stack) == dict.fromkeys(PUBLISHERS, 0)

        # The consumers that need the data opened it with the producers' keys.
        async def copied() -> bool:
            names = await query(postgres, stack, "matching", "SELECT name FROM mentees WHERE mentee_id = $1", MENTEE_ID)
            contacts = await query(
                postgres, stack, "notifications", "SELECT email FROM contacts WHERE participant_id = $1", MENTEE_ID
            )
            asked = await query(postgres, stack, "notifications", "SELECT biography FROM requests ORDER BY request_id")
            return (
                [r["name"] for r in names] == [marker("name")]
                and [r["email"] for r in contacts] == [mentee["email"]]
                and {r["biography"] for r in asked} == {marker("request-biography")}
            )

        await eventually(copied, timeout=30)

        # On the bus: no raw record holds a marker; an entitled reader opens them while the keys exist.
        records = await topic_records(broker, stack, postgres)
        assert not [r for r in records if MARK.encode() in r.value]
        readable = json.dumps(await opened(stack, records))
        for field in ("name", "biography", "request-biography", "motivation", "decline-reason", "goal-text"):
            assert marker(field) in readable, field

        # The erasure: every service shreds the mentee's key.
        assert (await client.delete(f"{profiles}/participants/{MENTEE_ID}", headers=ADMIN)).status_code == 204

        async def shredded_everywhere() -> bool:
            for service in PUBLISHERS:
                rows = await query(
                    postgres,
                    stack,
                    service,
                    "SELECT data_key IS NULL AS gone FROM person_keys WHERE participant_id = $1",
                    MENTEE_ID,
                )
                if [r["gone"] for r in rows] != [True]:
                    return False
            return True

        await eventually(shredded_everywhere, timeout=30)

        # Republished, every topic holds the history twice; neither copy yields a marker, raw or opened.
        for service in PUBLISHERS:
            answer = await client.post(f"{stack[service].url}/admin/republish", headers=ADMIN)
            assert answer.status_code == 202, answer.text

        async def outboxes_empty() -> bool:
            for service in PUBLISHERS:
                [row] = await query(postgres, stack, service, "SELECT count(*) AS n FROM outbox")
                if row["n"]:
                    return False
            return True

        await eventually(outboxes_empty, timeout=30)
        records = await topic_records(broker, stack, postgres)
        assert not [r for r in records if MARK.encode() in r.value]
        assert MARK not in json.dumps(await opened(stack, records))
        assert await stored_markers(postgres, stack) == dict.fromkeys(PUBLISHERS, 0)

        # The streams still load: the aggregates rebuild on placeholders.
        request = await client.get(f"{matching}/requests/{first}", headers=ADMIN)
        assert request.status_code == 200 and MARK not in request.text, request.text
        shown = await client.get(at, headers=MENTOR)
        assert shown.status_code == 200, shown.text
