"""The reads the portal's pages need: a request's timeline, a mentor's inbox, names in request views, mentor and
mentee cards for an introduction, the list of bulk runs; each with who may read it."""

from __future__ import annotations

from shared.auth import Role
from tests.helpers import unique
from tests.integration.matching.conftest import DIRECTOR, days, mentee_registered, mentor_registered
from tests.integration.service_harness import auth


async def test_timeline_inbox_cards_and_bulk_runs(service) -> None:
    first, second, third, mentee = unique("mentor"), unique("mentor"), unique("mentor"), unique("mentee")
    other, free = unique("mentee"), unique("mentee")
    await service.feed(
        mentor_registered(first),
        mentor_registered(second),
        mentor_registered(third),
        mentee_registered(mentee),
        mentee_registered(other),
        mentee_registered(free),
    )
    rid = await service.submit(mentee, first, second, third)
    await service.approve(rid)

    # The first choice's inbox: the request waits for them, with the mentee's name, what they wrote and the deadline.
    inbox = await service.client.get("/requests?waiting_for_me=true", headers=auth(first, Role.mentor))
    assert inbox.status_code == 200, inbox.text
    [waiting] = inbox.json()["items"]
    assert waiting["request_id"] == rid and waiting["mentee_name"] == f"Fellow {mentee}"
    assert waiting["biography"] == "Cardiology fellow" and waiting["respond_by"].startswith("2026-03-09")
    assert waiting["mentor_names"] == {m: f"Dr {m}" for m in (first, second, third)}
    nothing = await service.client.get("/requests?waiting_for_me=true", headers=auth(second, Role.mentor))
    assert nothing.json()["items"] == []
    card = await service.client.get(f"/mentees/{mentee}", headers=auth(first, Role.mentor))
    assert card.status_code == 200 and card.json()["name"] == f"Fellow {mentee}"
    not_yet = await service.client.get(f"/mentees/{mentee}", headers=auth(second, Role.mentor))
    assert (not_yet.status_code, not_yet.json()) == (404, {"detail": f"no mentee {mentee}"})

    declined = await service.client.post(
        f"/requests/{rid}/response", headers=auth(first, Role.mentor), json={"accepted": False, "reason": "Full"}
    )
    assert declined.status_code == 200, declined.text
    service.clock.advance(days(8))
    assert await service.fire_timers() >= 1  # the second choice let the deadline pass
    accepted = await service.answer(rid, third, True)
    assert accepted.status_code == 200, accepted.text

    # The first choice, no longer asked, keeps the request in their history without the mentee's words or name.
    [past] = (await service.client.get("/requests", headers=auth(first, Role.mentor))).json()["items"]
    assert past["biography"] is None and past["mentee_name"] is None and past["status"] == "matched"

    mine = await service.client.get(f"/requests/{rid}/timeline", headers=auth(mentee))
    assert mine.status_code == 200, mine.text
    steps = mine.json()["steps"]
    assert mine.json()["status"] == "matched"
    assert [(s["step"], s.get("choice_rank")) for s in steps] == [
        ("submitted", None),
        ("approved", None),
        ("forwarded", 1),
        ("mentor_declined", 1),
        ("forwarded", 2),
        ("expired", 2),
        ("forwarded", 3),
        ("mentor_accepted", 3),
        ("matched", None),
    ]
    assert steps[2]["respond_by"].startswith("2026-03-09") and steps[-1]["mentor_id"] == third
    assert all("mentor_reason" not in s for s in steps)  # a mentor's reason for declining is the director's
    director_steps = (await service.client.get(f"/requests/{rid}/timeline", headers=DIRECTOR)).json()["steps"]
    assert director_steps[3]["mentor_reason"] == "Full"
    firsts = (await service.client.get(f"/requests/{rid}/timeline", headers=auth(first, Role.mentor))).json()
    assert [s["step"] for s in firsts["steps"]] == ["forwarded", "mentor_declined"]
    for stranger in (auth(other), auth(unique("mentor"), Role.mentor)):
        hidden = await service.client.get(f"/requests/{rid}/timeline", headers=stranger)
        assert (hidden.status_code, hidden.json()) == (404, {"detail": f"no request {rid}"})
    assert (await service.client.get("/requests/ghost/timeline", headers=DIRECTOR)).status_code == 404

    # The introduction: each side reads the other's card; the declining mentor no longer reads the mentee's.
    assert (await service.client.get(f"/mentees/{mentee}", headers=auth(third, Role.mentor))).status_code == 200
    assert (await service.client.get(f"/mentees/{mentee}", headers=auth(first, Role.mentor))).status_code == 404
    assert (await service.client.get(f"/mentees/{mentee}", headers=auth(other))).status_code == 404
    assert (await service.client.get(f"/mentees/{mentee}", headers=DIRECTOR)).status_code == 200
    mentor_card = await service.client.get(f"/directory/mentors/{third}", headers=auth(mentee))
    assert mentor_card.status_code == 200 and mentor_card.json()["open_slots"] == 1
    assert (await service.client.get("/directory/mentors/ghost", headers=auth(mentee))).status_code == 404

    # Bulk runs: the director lists them, newest first, with their status; nobody else.
    proposed = await service.client.post("/bulk-runs", headers=DIRECTOR, json={"mode": "stable"})
    assert proposed.status_code == 201, proposed.text
    run_id = proposed.json()["run_id"]
    listed = await service.client.get("/bulk-runs?status=proposed", headers=DIRECTOR)
    assert listed.status_code == 200
    [run] = listed.json()["items"]
    assert run["run_id"] == run_id and run["summary"]["mentees"] == 2 and "pairs" not in run
    await service.client.post(f"/bulk-runs/{run_id}/discard", headers=DIRECTOR)
    assert (await service.client.get("/bulk-runs?status=proposed", headers=DIRECTOR)).json()["items"] == []
    assert (await service.client.get("/bulk-runs", headers=auth(mentee))).status_code == 403
    bad = await service.client.get("/bulk-runs?limit=201", headers=DIRECTOR)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "limit"]
