"""The relationships service in-process on real Postgres and the real broker, with a frozen clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from services.relationships.adapters.cipher import new_key
from services.relationships.bootstrap import build_app
from services.relationships.settings import RelationshipsSettings
from shared.auth import Role, mint_token
from shared.clock import FrozenClock
from shared.envelope import Envelope
from shared.events import Event
from shared.runtime import ServiceRuntime
from shared.settings import DEV_JWT_SECRET, ServiceSettings
from shared.timers import TimerWheel

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def auth(subject: str, *roles: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, subject, list(roles) or [Role.mentee])}"}


MENTOR, MENTEE = auth("mentor-1", Role.mentor), auth("mentee-1", Role.mentee)
STRANGER, DIRECTOR, ANALYST = auth("mentee-9", Role.mentee), auth("director-1", Role.admin), auth("an-1", Role.analyst)


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

    async def event_types(self, relationship_id: str) -> list[str]:
        rows = await self.runtime.pool.fetch(
            "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY version", relationship_id
        )
        return [r["event_type"] for r in rows]

    async def start_one_to_one(self) -> str:
        response = await self.client.post(
            "/relationships",
            json={"model": "one_to_one", "mentor_id": "mentor-1", "mentee_ids": ["mentee-1"]},
            headers=DIRECTOR,
        )
        assert response.status_code == 201, response.text
        return response.json()["relationship_id"]

    async def agree(self, relationship_id: str, **terms) -> None:
        body = {
            "format": "video",
            "goals": [
                {
                    "goal_id": "g1",
                    "text": "Submit a K award",
                    "measure": "application submitted",
                    "due_on": "2026-12-01",
                }
            ],
            "development_plan": [{"title": "Specific aims page", "due_on": "2026-05-01"}],
            **terms,
        }
        proposed = await self.client.put(f"/relationships/{relationship_id}/agreement", json=body, headers=MENTOR)
        assert proposed.status_code == 200, proposed.text
        for who in (MENTOR, MENTEE):
            signed = await self.client.post(
                f"/relationships/{relationship_id}/agreement/signatures",
                headers=who,
                json={
                    "revision": proposed.json()["revision"],
                    "confidentiality_accepted": True,
                    "no_fault_termination_acknowledged": True,
                },
            )
            assert signed.status_code == 200, signed.text


@pytest.fixture
async def service(fresh_dsn, broker):
    clock = FrozenClock(START)
    settings = ServiceSettings(
        service_name="relationships",
        pg_dsn=fresh_dsn,
        kafka_bootstrap=broker.bootstrap,
        consumer_session_timeout_ms=2_000,
        timer_poll_seconds=3_600,
        relay_poll_seconds=0.1,
    )
    app = build_app(settings, clock, RelationshipsSettings(confidential_keys=f"test:{new_key()}"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relationships", timeout=30) as client:
            yield Service(app, client, clock, broker.bootstrap)


def days(n: int) -> timedelta:
    return timedelta(days=n)
