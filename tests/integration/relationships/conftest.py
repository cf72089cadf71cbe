"""The relationships service in-process on real Postgres and the real broker, with a frozen clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.relationships.adapters.cipher import new_key
from services.relationships.bootstrap import build_app
from services.relationships.settings import RelationshipsSettings
from shared.auth import Role
from shared.clock import FrozenClock
from tests.integration import service_harness
from tests.integration.service_harness import START, auth, settings_for

MENTOR, MENTEE = auth("mentor-1", Role.mentor), auth("mentee-1", Role.mentee)
STRANGER, DIRECTOR, ANALYST = auth("mentee-9", Role.mentee), auth("director-1", Role.admin), auth("an-1", Role.analyst)


class Service(service_harness.Service):
    """Relationships, with the steps most tests start from: a one-to-one relationship and a signed agreement."""

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
    options = RelationshipsSettings(confidential_keys=f"test:{new_key()}")
    app = build_app(settings_for("relationships", fresh_dsn, broker.bootstrap), clock, options)
    async with service_harness.running(Service, app, clock, broker.bootstrap, base_url="http://relationships") as s:
        yield s


def days(n: int) -> timedelta:
    return timedelta(days=n)
