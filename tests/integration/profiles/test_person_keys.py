"""Profiles' key route (``shared.keysource``): a person's data key for platform services only, none once the person is
erased, and every answer hands its connection back to the pool (it does so beside the answer, not before it)."""

from __future__ import annotations

import base64

from shared.auth import Role
from shared.keysource import KEYS_PATH
from tests.integration.profiles.test_erasure import ADMIN, mentor
from tests.integration.service_harness import auth


async def test_services_get_a_persons_key_until_the_person_is_erased(api, app) -> None:
    assert (await api.post("/mentors", json=mentor(), headers=auth("p1", Role.mentor))).status_code == 201
    service = auth("service:matching", Role.service)
    for caller, status in (({}, 401), (auth("p1", Role.mentor), 403), (ADMIN, 403)):
        assert (await api.get(KEYS_PATH, params={"person": "p1"}, headers=caller)).status_code == status

    pool = app.state.runtime.pool
    for _ in range(pool.get_max_size() + 2):  # more answers than the pool has connections: each one came back
        answer = await api.get(KEYS_PATH, params=[("person", "p1"), ("person", "nobody")], headers=service)
        assert answer.status_code == 200
    keys = answer.json()["keys"]
    assert len(base64.b64decode(keys["p1"])) == 32 and keys["nobody"] is None

    assert (await api.delete("/participants/p1", headers=ADMIN)).status_code == 204
    assert (await api.get(KEYS_PATH, params={"person": "p1"}, headers=service)).json() == {"keys": {"p1": None}}
