"""The profiles API on a real database: registration, edits, capacity, training, 403/409/422."""

from __future__ import annotations

import asyncio

from shared.auth import Role
from shared.eventstore import EventStore
from tests.helpers import cardiologist_profile as profile
from tests.integration.service_harness import auth

ADMIN = auth("director-1", Role.admin)
ADA = auth("ada", Role.mentor)
BEN = auth("ben", Role.mentee)


async def register_ada(api, **overrides) -> dict:
    body = {"name": "Ada Okafor", "email": "ada@example.edu", "capacity": 2, "profile": profile(), **overrides}
    response = await api.post("/mentors", json=body, headers=ADA)
    assert response.status_code == 201, response.text
    return response.json()


async def events_of(pool, participant_id: str) -> list[tuple[str, dict]]:
    """The stream as appended (the store opens the personal fields it keeps sealed)."""
    async with pool.acquire() as conn:
        stored = await EventStore("profiles").read_stream(conn, participant_id)
    return [(s.envelope.type, s.envelope.data) for s in stored]


async def test_a_mentee_registers_and_reads_their_profile(api) -> None:
    body = {
        "name": "Ben Ito",
        "email": "ben@example.edu",
        "profile": profile(specialty="oncology", career_stage="trainee"),
        "demographics": {"consented": True, "first_generation": True},
    }
    created = await api.post("/mentees", json=body, headers=BEN)
    assert created.status_code == 201, created.text
    assert created.json() == {"participant_id": "ben", "version": 1}
    read = await api.get("/participants/ben", headers=BEN)
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'
    assert read.json()["roles"] == ["mentee"] and read.json()["demographics"]["first_generation"] is True
    assert (await api.post("/mentees", json=body, headers=ADA)).status_code == 403  # a mentor token is not a mentee


async def test_one_person_can_be_mentor_and_mentee(api, profiles_pool) -> None:
    both = auth("cy", Role.mentor, Role.mentee)
    body = {"name": "Cy", "email": "cy@example.edu", "profile": profile()}
    assert (await api.post("/mentors", json={**body, "capacity": 1}, headers=both)).status_code == 201
    assert (await api.post("/mentees", json=body, headers=both)).status_code == 201
    assert (await api.get("/participants/cy", headers=both)).json()["roles"] == ["mentee", "mentor"]


async def test_an_edit_appends_only_the_changed_fields(api, profiles_pool) -> None:
    await register_ada(api)
    edited = await api.patch(
        "/participants/ada/profile",
        json={
            "profile": {"interests": ["heart failure", "grant writing"], "location": "Chicago"},
            "name": "Ada Okafor",
        },
        headers=ADA,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json() == {"participant_id": "ada", "version": 2, "changed": ["profile.location"]}
    [_, (kind, data)] = await events_of(profiles_pool, "ada")
    assert kind == "ProfileUpdated" and data["source"] == "participant"
    assert data["changes"] == [{"field": "profile.location", "old": None, "new": "Chicago"}]


async def test_an_edit_that_changes_nothing_appends_nothing(api, profiles_pool) -> None:
    await register_ada(api)
    same = await api.patch("/participants/ada/profile", json={"profile": {"specialty": "cardiology"}}, headers=ADA)
    assert same.status_code == 200 and same.json()["changed"] == [] and same.json()["version"] == 1
    assert (await api.patch("/participants/ada/profile", json={}, headers=ADA)).json()["version"] == 1
    assert len(await events_of(profiles_pool, "ada")) == 1


async def test_editing_someone_elses_profile_is_403_but_an_admin_may(api, profiles_pool) -> None:
    await register_ada(api)
    other = await api.patch("/participants/ada/profile", json={"profile": {"location": "x"}}, headers=BEN)
    assert other.status_code == 403
    assert (await api.get("/participants/ada", headers=BEN)).status_code == 403
    by_admin = await api.patch("/participants/ada/profile", json={"profile": {"location": "Lagos"}}, headers=ADMIN)
    assert by_admin.status_code == 200
    assert (await events_of(profiles_pool, "ada"))[-1][1]["source"] == "admin"


async def test_only_admins_set_a_priority_group(api) -> None:
    await register_ada(api)
    mine = await api.patch("/participants/ada/profile", json={"priority_group": "committee_member"}, headers=ADA)
    assert mine.status_code == 403
    theirs = await api.patch("/participants/ada/profile", json={"priority_group": "committee_member"}, headers=ADMIN)
    assert theirs.json()["changed"] == ["priority_group"]


async def test_bad_input_is_422_naming_the_field(api) -> None:
    await register_ada(api)
    bad = await api.patch(
        "/participants/ada/profile",
        json={"profile": {"time_zone": "Mars/Olympus", "biography": None, "colour": "red"}, "email": "nope"},
        headers=ADA,
    )
    assert bad.status_code == 422
    fields = {tuple(e["loc"]) for e in bad.json()["detail"]}
    assert {
        ("body", "profile", "time_zone"),
        ("body", "profile", "biography"),
        ("body", "profile", "colour"),
        ("body", "email"),
    } <= fields
    unconsented = await api.patch("/participants/ada/profile", json={"demographics": {"gender": "woman"}}, headers=ADA)
    assert unconsented.status_code == 422
    assert unconsented.json()["detail"][0]["loc"] == ["body", "demographics"]
    assert "consent" in unconsented.json()["detail"][0]["msg"]
    capacity = await api.put("/participants/ada/capacity", json={"capacity": 21}, headers=ADA)
    assert capacity.status_code == 422 and capacity.json()["detail"][0]["loc"] == ["body", "capacity"]


async def test_withdrawing_consent_clears_the_answers(api, profiles_pool) -> None:
    await register_ada(api, demographics={"consented": True, "gender": "woman"})
    withdrawn = await api.patch("/participants/ada/profile", json={"demographics": {"consented": False}}, headers=ADA)
    assert sorted(withdrawn.json()["changed"]) == ["demographics.consented", "demographics.gender"]
    assert (await api.get("/participants/ada", headers=ADA)).json()["demographics"] is None


async def test_a_stale_edit_is_409(api, profiles_pool) -> None:
    await register_ada(api)
    seen = (await api.get("/participants/ada", headers=ADA)).headers["ETag"]
    first = await api.patch(
        "/participants/ada/profile", json={"profile": {"location": "A"}}, headers={**ADA, "If-Match": seen}
    )
    stale = await api.patch(
        "/participants/ada/profile", json={"profile": {"location": "B"}}, headers={**ADA, "If-Match": seen}
    )
    assert first.status_code == 200 and stale.status_code == 409
    assert "at version 2, not at the expected version 1" in stale.json()["detail"]
    assert (
        await api.put("/participants/ada/capacity", json={"capacity": 3}, headers={**ADA, "If-Match": seen})
    ).status_code == 409
    assert (await api.get("/participants/ada", headers=ADA)).json()["profile"]["location"] == "A"


async def test_concurrent_edits_never_overwrite_each_other(api, profiles_pool) -> None:
    await register_ada(api)
    results = await asyncio.gather(
        *(
            api.patch("/participants/ada/profile", json={"profile": {"location": f"city {i}"}}, headers=ADA)
            for i in range(8)
        )
    )
    codes = sorted(r.status_code for r in results)
    assert set(codes) <= {200, 409} and 200 in codes
    events = await events_of(profiles_pool, "ada")
    assert len(events) == 1 + codes.count(200)  # every accepted edit is one event; a lost race appends nothing


async def test_capacity_changes_are_events_and_zero_means_not_taking_mentees(api, profiles_pool) -> None:
    await register_ada(api)
    assert (await api.put("/participants/ada/capacity", json={"capacity": 0}, headers=ADA)).json()["version"] == 2
    assert (await api.put("/participants/ada/capacity", json={"capacity": 0}, headers=ADA)).json()["version"] == 2
    kind, data = (await events_of(profiles_pool, "ada"))[-1]
    assert kind == "MentorCapacityChanged" and (data["old_capacity"], data["new_capacity"]) == (2, 0)
    await api.post("/mentees", json={"name": "Ben", "email": "ben@example.edu", "profile": profile()}, headers=BEN)
    refused = await api.put("/participants/ben/capacity", json={"capacity": 1}, headers=BEN)
    assert refused.status_code == 409 and "not a mentor" in refused.json()["detail"]


async def test_training_is_recorded_with_its_date(api, profiles_pool) -> None:
    await register_ada(api)
    done = await api.post(
        "/participants/ada/training", json={"kind": "handbook", "completed_on": "2025-02-01"}, headers=ADA
    )
    assert done.status_code == 200 and done.json()["version"] == 2
    future = await api.post(
        "/participants/ada/training", json={"kind": "workshop", "completed_on": "2025-03-02"}, headers=ADA
    )
    assert future.status_code == 422 and future.json()["detail"][0]["loc"] == ["body", "completed_on"]
    row = (await api.get("/participants/ada", headers=ADA)).json()
    assert row["training_status"] == "handbook_completed" and row["training"] == {"handbook": "2025-02-01"}


async def test_unknown_participant_is_404(api) -> None:
    assert (await api.patch("/participants/ghost/profile", json={"name": "x"}, headers=ADMIN)).status_code == 404


async def test_who_holds_an_email_is_told_only_to_admins(api, profiles_pool) -> None:
    await register_ada(api)
    taken = {"name": "Ben Ito", "email": "ADA@example.edu", "profile": profile()}
    by_ben = await api.post("/mentees", json=taken, headers=BEN)
    assert by_ben.status_code == 409
    said = by_ben.json()["detail"]
    assert "ada" not in said.lower() and "belongs" not in said and "program office" in said
    free = await api.post("/mentees", json={**taken, "email": "nobody-holds-this@example.edu"}, headers=BEN)
    assert free.status_code == 201
    edit = await api.patch("/participants/ben/profile", json={"email": "ada@example.edu"}, headers=BEN)
    assert (edit.status_code, edit.json()["detail"]) == (409, said)  # the same words for an edit
    by_admin = await api.patch("/participants/ben/profile", json={"email": "ada@example.edu"}, headers=ADMIN)
    assert by_admin.status_code == 409 and "already belongs to another participant" in by_admin.json()["detail"]
    assert [t for t, _ in await events_of(profiles_pool, "ben")] == ["MenteeRegistered"]


async def test_text_with_a_nul_character_is_a_422_naming_where(api) -> None:
    body = {"name": "Ada\u0000", "email": "ada@example.edu", "capacity": 1, "profile": profile()}
    response = await api.post("/mentors", json=body, headers=ADMIN)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "name"]
    assert "NUL" in response.json()["detail"][0]["msg"]  # refused at the parse level (shared.limits), saying why
    response = await api.get("/directory/mentors", params={"q": "a\u0000"}, headers=ADMIN)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query"]
