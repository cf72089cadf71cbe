"""The mentor directory: filters, paging, biography shown, demographics only with consent."""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.integration.service_harness import auth

ADMIN = auth("director-1", Role.admin)
MENTEE = auth("someone", Role.mentee)


async def mentor(api, name: str, *, capacity: int = 2, demographics=None, **profile) -> str:
    body = {
        "participant_id": name.lower(),
        "name": name,
        "email": f"{name.lower()}@example.edu",
        "capacity": capacity,
        "profile": {
            "biography": f"{name} mentors.",
            "specialty": "cardiology",
            "career_stage": "senior",
            "interests": ["grant writing"],
            "languages": ["en"],
            "time_zone": "America/Chicago",
            **profile,
        },
        "demographics": demographics,
    }
    response = await api.post("/mentors", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return name.lower()


@pytest.fixture
async def directory(api):
    await mentor(api, "Ada", demographics={"consented": True, "gender": "woman"}, location="Chicago, IL")
    await mentor(api, "Bo", capacity=0, specialty="Oncology", languages=["en", "es"], time_zone="Europe/Madrid")
    await mentor(api, "Cy", interests=["clinical trials", "Leadership"], career_stage="mid_career")
    await mentor(api, "Di", demographics={"consented": False})
    await api.post("/participants/cy/training", json={"kind": "workshop", "completed_on": "2025-01-10"}, headers=ADMIN)
    await api.post(
        "/mentees",
        json={
            "participant_id": "me",
            "name": "Me",
            "email": "me@example.edu",
            "profile": {"biography": "x", "specialty": "cardiology", "career_stage": "trainee"},
        },
        headers=ADMIN,
    )
    return api


async def names(api, **params) -> list[str]:
    response = await api.get("/directory/mentors", params=params, headers=MENTEE)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_only_active_mentors_are_listed_with_their_biography(directory) -> None:
    page = (await directory.get("/directory/mentors", headers=MENTEE)).json()
    assert page["total"] == 4 and [i["name"] for i in page["items"]] == ["Ada", "Bo", "Cy", "Di"]
    assert page["items"][0]["biography"] == "Ada mentors."


async def test_filters(directory) -> None:
    assert await names(directory, specialty="oncology") == ["Bo"]
    assert await names(directory, interest=["leadership", "nothing"]) == ["Cy"]
    assert await names(directory, career_stage="mid_career") == ["Cy"]
    assert await names(directory, language="es") == ["Bo"]
    assert await names(directory, time_zone="Europe/Madrid") == ["Bo"]
    assert await names(directory, location="chicago") == ["Ada"]
    assert await names(directory, has_capacity="false") == ["Bo"]
    assert await names(directory, has_capacity="true", trained="true") == ["Cy"]
    assert await names(directory, q="bo mentors") == ["Bo"]


async def test_paging(directory) -> None:
    page = (await directory.get("/directory/mentors", params={"limit": 2, "offset": 2}, headers=MENTEE)).json()
    assert [i["name"] for i in page["items"]] == ["Cy", "Di"] and page["total"] == 4


async def test_demographics_only_with_consent(directory) -> None:
    items = {i["name"]: i for i in (await directory.get("/directory/mentors", headers=MENTEE)).json()["items"]}
    assert items["Ada"]["demographics"]["gender"] == "woman"
    assert items["Di"]["demographics"] is None and items["Bo"]["demographics"] is None
    assert "email" not in items["Ada"]


async def test_a_paused_or_inactive_mentor_has_no_place(directory, profiles_pool) -> None:
    paused = await directory.patch(
        "/participants/ada/profile", json={"availability": {"accepting_requests": False}}, headers=ADMIN
    )
    assert paused.json()["changed"] == ["availability.accepting_requests"]
    assert await names(directory, has_capacity="true") == ["Cy", "Di"]
    await profiles_pool.execute("UPDATE participants SET active = false WHERE participant_id = 'ada'")
    assert "Ada" not in await names(directory)


async def test_only_authenticated_participants(directory) -> None:
    assert (await directory.get("/directory/mentors")).status_code == 401
    analyst = auth("a", Role.analyst)
    assert (await directory.get("/directory/mentors", headers=analyst)).status_code == 403
