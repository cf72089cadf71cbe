"""Erasure over the API: the event, the read model, HR facts, later HR facts, and shredded keys."""

from __future__ import annotations

from shared.auth import Role
from shared.events import decode
from shared.sealing import Sealing
from tests.integration.profiles.hr_events import envelope, hired, updated
from tests.integration.service_harness import auth

ADMIN = auth("director", Role.admin)


def mentor(email: str = "ada@example.edu") -> dict:
    return {
        "name": "Ada",
        "email": email,
        "capacity": 2,
        "demographics": {"consented": True, "gender": "woman"},
        "profile": {"biography": "Grew up in Lagos", "specialty": "oncology", "career_stage": "senior"},
    }


async def test_a_participant_erases_themself_and_every_later_read_knows_only_that(api, profiles_pool, store) -> None:
    me = auth("p1", Role.mentor)
    assert (await api.post("/mentors", json=mentor(), headers=me)).status_code == 201
    stored = await profiles_pool.fetchval("SELECT data::text FROM events WHERE stream_id = 'p1'")
    assert "Grew up in Lagos" not in stored and "ada@example.edu" not in stored  # sealed at rest
    assert (await api.get("/participants/p1", headers=me)).json()["email"] == "ada@example.edu"
    assert (await api.delete("/participants/p1", headers=auth("p2", Role.mentor))).status_code == 403
    assert (await api.delete("/participants/p1", headers=me)).status_code == 204

    gone = await api.get("/participants/p1", headers=ADMIN)
    assert gone.status_code == 410 and "erased" in gone.json()["detail"]
    assert await profiles_pool.fetchval("SELECT count(*) FROM participants") == 0
    types = await profiles_pool.fetch("SELECT event_type, data FROM events WHERE stream_id = 'p1' ORDER BY version")
    assert [t["event_type"] for t in types] == ["MentorRegistered", "ParticipantErased"]
    assert types[1]["data"] == {"participant_id": "p1"}
    assert (await api.get("/directory/mentors", headers=ADMIN)).json()["total"] == 0
    # their token, not expired, no longer acts or reads here (shared.standing): 410, nothing written
    for answer in (
        await api.get("/directory/mentors", headers=me),
        await api.patch("/participants/p1/profile", json={"name": "Back"}, headers=me),
    ):
        assert answer.status_code == 410 and "was erased" in answer.json()["detail"]
    receipt = (await api.get("/privacy/p1", headers=ADMIN)).json()
    assert receipt["standing"] == "erased" and receipt["readable"] == 0, receipt
    outcomes = {p["place"]: p["outcome"] for p in receipt["erasure_receipt"]["places"]}
    assert outcomes["table participants"] == "removed" and outcomes["event store"] == "made unreadable"
    again = await api.delete("/participants/p1", headers=ADMIN)
    assert again.status_code == 204
    assert await profiles_pool.fetchval("SELECT count(*) FROM events WHERE stream_id = 'p1'") == 2
    edit = await api.patch("/participants/p1/profile", json={"name": "Back"}, headers=ADMIN)
    assert edit.status_code == 409 and "erased" in edit.json()["detail"]
    # the email is free for someone else now
    assert (await api.post("/mentors", json=mentor(), headers=auth("p3", Role.mentor))).status_code == 201
    assert (await api.delete("/participants/nobody", headers=ADMIN)).status_code == 404


async def test_erasure_drops_hr_facts_and_later_facts_are_not_kept(hr_feed, api, profiles_pool) -> None:
    await hr_feed.send(envelope(hired()))
    await hr_feed.until_handled(1)
    assert (await api.delete("/participants/E100", headers=ADMIN)).status_code == 204
    assert await profiles_pool.fetchval("SELECT count(*) FROM hr_facts") == 0
    await hr_feed.send(envelope(updated(location="North site")))
    await hr_feed.until_handled(2)
    assert await profiles_pool.fetchval("SELECT count(*) FROM hr_facts") == 0
    assert await profiles_pool.fetchval("SELECT count(*) FROM participants") == 0
    assert await profiles_pool.fetchval("SELECT count(*) FROM events WHERE stream_id = 'E100'") == 2


async def test_sealed_events_read_back_until_the_key_is_shredded(api, profiles_pool, container) -> None:
    """The store seals personal fields as it appends and opens them as it reads; a shredded key gives placeholders."""
    assert (await api.post("/mentors", json={**mentor(), "participant_id": "p1"}, headers=ADMIN)).status_code == 201
    await api.patch("/participants/p1/profile", json={"name": "Ada Okafor"}, headers=ADMIN)
    sealer, participants = Sealing(), container.participants
    async with profiles_pool.acquire() as conn:
        for stored in await conn.fetch("SELECT data::text FROM events WHERE stream_id = 'p1'"):
            assert "Ada" not in stored[0] and "Lagos" not in stored[0] and "$sealed" in stored[0]
        participant = await participants.load(conn, "p1")
        assert (
            participant.fields["name"] == "Ada Okafor" and participant.fields["profile.biography"] == "Grew up in Lagos"
        )

    assert (await api.delete("/participants/p1", headers=ADMIN)).status_code == 204
    async with profiles_pool.acquire() as conn:
        assert await sealer.keys(conn, ["p1"], create=False) == {"p1": None}
        assert await sealer.keys(conn, ["p1"], create=True) == {"p1": None}  # a shredded key is never re-created
        registration = await conn.fetchrow("SELECT event_type, data FROM events WHERE event_type = 'MentorRegistered'")
        event = decode("MentorRegistered", await sealer.open(conn, "p1", "MentorRegistered", registration["data"]), 1)
        assert (event.name, event.email, event.profile.biography) == ("[erased]", "erased@erased.invalid", "[erased]")
        assert event.profile.specialty == "oncology"
        assert (await participants.load(conn, "p1")).erased
