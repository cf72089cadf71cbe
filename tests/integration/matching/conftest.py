"""The matching service in-process on real Postgres and the real broker, with a frozen clock.

Profiles, HR and relationships events are published on their real topics and reach matching through its
idempotent consumer; ``Service.feed`` waits until the inbox holds exactly those events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from services.matching.bootstrap import build_app
from shared.auth import Role, mint_token
from shared.bus import HR_TOPIC, new_producer, topic_for
from shared.clock import FrozenClock
from shared.envelope import Envelope
from shared.events import Event
from shared.events.hr import Worker, WorkerHired
from shared.events.profiles import (
    MenteeRegistered,
    MentorRegistered,
    ParticipantDeactivated,
    ProfileFields,
)
from shared.runtime import ServiceRuntime
from shared.settings import DEV_JWT_SECRET, ServiceSettings
from shared.timers import TimerWheel
from tests.helpers import eventually

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DIRECTOR_ID = "director-1"


def auth(subject: str, *roles: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, subject, list(roles) or [Role.mentee])}"}


DIRECTOR = auth(DIRECTOR_ID, Role.admin)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def envelope_of(event: Event, subject: str, source: str) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source=source,
        type=event.type_name(),
        time=START,
        subject=subject,
        correlationid=uuid.uuid4(),
        sequence=1,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
    )


def profile(**fields) -> ProfileFields:
    base = {
        "biography": "Cardiologist",
        "specialty": "cardiology",
        "interests": ["research", "grants", "teaching"],
        "career_stage": "senior",
        "time_zone": "UTC",
        "languages": ["en"],
    }
    return ProfileFields(**{**base, **fields})


def mentor_registered(mentor_id: str, capacity: int = 2, employee_id: str | None = None, **fields) -> MentorRegistered:
    return MentorRegistered(
        participant_id=mentor_id,
        name=f"Dr {mentor_id}",
        email=f"{mentor_id}@example.edu",
        capacity=capacity,
        employee_id=employee_id,
        profile=profile(**fields),
    )


def mentee_registered(mentee_id: str, employee_id: str | None = None, **fields) -> MenteeRegistered:
    fields = {"career_stage": "early_career", "biography": "Fellow", **fields}
    return MenteeRegistered(
        participant_id=mentee_id,
        name=f"Fellow {mentee_id}",
        email=f"{mentee_id}@example.edu",
        employee_id=employee_id,
        profile=profile(**fields),
    )


def deactivated(participant_id: str) -> ParticipantDeactivated:
    return ParticipantDeactivated(
        participant_id=participant_id, reason="left_institution", effective_date=date(2026, 3, 1)
    )


def hired(employee_id: str, supervisor_id: str | None) -> WorkerHired:
    worker = Worker(
        employee_id=employee_id,
        supervisor_id=supervisor_id,
        legal_name=f"Worker {employee_id}",
        work_email=f"{employee_id.lower()}@example.edu",
        title="Professor",
        job_function="faculty",
        department_id="D1",
        department_name="Medicine",
        country="US",
        original_hire_date=date(2020, 1, 1),
        last_hire_date=date(2020, 1, 1),
    )
    return WorkerHired(employee_id=employee_id, effective_date=date(2020, 1, 1), recorded_at=START, worker=worker)


_SOURCES = {"profiles": topic_for("profiles"), "hr": HR_TOPIC, "relationships": topic_for("relationships")}


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FrozenClock
    bootstrap: str

    @property
    def runtime(self) -> ServiceRuntime:
        return self.app.state.runtime

    async def fire_timers(self) -> int:
        return await TimerWheel(self.runtime.pool, self.runtime.timer_handlers, self.clock).fire_due()

    async def feed(self, *events: Event) -> list[Envelope]:
        """Publish on the owner's topic and wait until matching has handled every one."""
        envelopes = [
            envelope_of(
                e,
                getattr(e, "participant_id", None) or getattr(e, "relationship_id", None) or e.employee_id,
                f"/services/{e.owner}",
            )
            for e in events
        ]
        producer = new_producer(self.bootstrap)
        await producer.start()
        try:
            for event, envelope in zip(events, envelopes, strict=False):
                await producer.send_and_wait(
                    _SOURCES[event.owner], value=envelope.to_bytes(), key=envelope.subject.encode()
                )
        finally:
            await producer.stop()
        ids = [e.id for e in envelopes]

        async def handled() -> bool:
            return await self.runtime.pool.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", ids
            ) == len(ids)

        await eventually(handled, timeout=40)
        return envelopes

    async def event_types(self, stream_id: str) -> list[str]:
        rows = await self.runtime.pool.fetch(
            "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY version", stream_id
        )
        return [r["event_type"] for r in rows]

    async def events(self, stream_id: str, event_type: str) -> list[dict]:
        rows = await self.runtime.pool.fetch(
            "SELECT data FROM events WHERE stream_id = $1 AND event_type = $2 ORDER BY version", stream_id, event_type
        )
        return [r["data"] for r in rows]

    async def submit(self, mentee_id: str, *ranked: str, expect: int = 201) -> str:
        response = await self.client.post(
            "/requests",
            headers=auth(mentee_id, Role.mentee),
            json={"biography": "Cardiology fellow", "motivation": "Grant writing", "ranked_mentor_ids": list(ranked)},
        )
        assert response.status_code == expect, response.text
        return response.json().get("request_id", "")

    async def approve(self, request_id: str) -> None:
        response = await self.client.post(f"/requests/{request_id}/review", headers=DIRECTOR, json={"approved": True})
        assert response.status_code == 200, response.text

    async def answer(self, request_id: str, mentor_id: str, accepted: bool) -> httpx.Response:
        return await self.client.post(
            f"/requests/{request_id}/response", headers=auth(mentor_id, Role.mentor), json={"accepted": accepted}
        )

    async def request(self, request_id: str) -> dict:
        response = await self.client.get(f"/requests/{request_id}", headers=DIRECTOR)
        assert response.status_code == 200, response.text
        return response.json()

    async def load(self, mentor_id: str) -> int:
        return await self.runtime.pool.fetchval("SELECT count(*) FROM active_pairs WHERE mentor_id = $1", mentor_id)


def settings_for(dsn: str, bootstrap: str) -> ServiceSettings:
    return ServiceSettings(
        service_name="matching",
        pg_dsn=dsn,
        kafka_bootstrap=bootstrap,
        consumer_session_timeout_ms=2_000,
        timer_poll_seconds=3_600,
        relay_poll_seconds=0.1,
    )


@asynccontextmanager
async def running(dsn: str, bootstrap: str, clock: FrozenClock) -> AsyncIterator[Service]:
    app = build_app(settings_for(dsn, bootstrap), clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://matching", timeout=60) as client:
            yield Service(app, client, clock, bootstrap)


@pytest.fixture
async def service(fresh_dsn, broker):
    async with running(fresh_dsn, broker.bootstrap, FrozenClock(START)) as running_service:
        yield running_service


def days(n: float) -> timedelta:
    return timedelta(days=n)
