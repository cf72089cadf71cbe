"""The matching service in-process on real Postgres and the real broker, with a frozen clock.

Profiles, HR and relationships events are published on their real topics and reach matching through its
idempotent consumer; ``Service.feed`` waits until the inbox holds exactly those events.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import date, timedelta

import httpx
import pytest

from services.matching.bootstrap import build_app
from shared.auth import Role
from shared.clock import FrozenClock
from shared.events.hr import Worker, WorkerHired
from shared.events.profiles import (
    MenteeRegistered,
    MentorRegistered,
    ParticipantDeactivated,
    ProfileFields,
)
from tests.helpers import doctor, fellow, worker_fields
from tests.integration import service_harness
from tests.integration.service_harness import START, auth, settings_for

DIRECTOR_ID = "director-1"
DIRECTOR = auth(DIRECTOR_ID, Role.admin)


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
    return doctor(mentor_id, profile(**fields), capacity, employee_id)


def mentee_registered(mentee_id: str, employee_id: str | None = None, **fields) -> MenteeRegistered:
    return fellow(mentee_id, profile(**{"career_stage": "early_career", "biography": "Fellow", **fields}), employee_id)


def deactivated(participant_id: str) -> ParticipantDeactivated:
    return ParticipantDeactivated(
        participant_id=participant_id, reason="left_institution", effective_date=date(2026, 3, 1)
    )


def hired(employee_id: str, supervisor_id: str | None) -> WorkerHired:
    worker = Worker(**worker_fields(employee_id, supervisor_id=supervisor_id))
    return WorkerHired(employee_id=employee_id, effective_date=date(2020, 1, 1), recorded_at=START, worker=worker)


class Service(service_harness.Service):
    """Matching, fed profiles, HR and relationships events on their real topics (``feed``)."""

    async def events(self, stream_id: str, event_type: str) -> list[dict]:
        return await self.opened(
            "SELECT stream_id, event_type, data FROM events WHERE stream_id = $1 AND event_type = $2 ORDER BY version",
            stream_id,
            event_type,
        )

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


def running(dsn: str, bootstrap: str, clock: FrozenClock) -> AbstractAsyncContextManager[Service]:
    app = build_app(settings_for("matching", dsn, bootstrap), clock)
    return service_harness.running(Service, app, clock, bootstrap, base_url="http://matching", timeout=60)


@pytest.fixture
async def service(fresh_dsn, broker):
    async with running(fresh_dsn, broker.bootstrap, FrozenClock(START)) as running_service:
        yield running_service


def days(n: float) -> timedelta:
    return timedelta(days=n)
