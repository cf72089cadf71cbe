"""Suggestions with the program's weights, and admin bulk runs: propose, inspect, commit or discard."""

from __future__ import annotations

from shared.auth import Role
from tests.helpers import unique
from tests.integration.matching.conftest import DIRECTOR, hired, mentee_registered, mentor_registered
from tests.integration.service_harness import auth


async def test_top_k_suggestions_with_reasons_excluding_full_mentors(service) -> None:
    best, good, full, mentee = unique("a"), unique("b"), unique("c"), unique("mentee")
    await service.feed(
        mentor_registered(best),
        mentor_registered(good, specialty="oncology", interests=["teaching"]),
        mentor_registered(full, capacity=0),
        mentee_registered(mentee),
    )
    response = await service.client.get(f"/mentees/{mentee}/suggestions", params={"k": 5}, headers=auth(mentee))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [s["mentor_id"] for s in items] == [best, good]
    assert items[0]["score"] > items[1]["score"] and items[0]["reason"].startswith("same specialty: cardiology")
    top1 = await service.client.get(f"/mentees/{mentee}/suggestions", params={"k": 1}, headers=DIRECTOR)
    assert [s["mentor_id"] for s in top1.json()["items"]] == [best]

    bad_k = await service.client.get(f"/mentees/{mentee}/suggestions", params={"k": 0}, headers=auth(mentee))
    assert bad_k.status_code == 422 and bad_k.json()["detail"][0]["loc"] == ["query", "k"]
    other = await service.client.get(f"/mentees/{mentee}/suggestions", headers=auth(unique("mentee")))
    assert other.status_code == 403
    as_mentor = await service.client.get(f"/mentees/{mentee}/suggestions", headers=auth(best, Role.mentor))
    assert as_mentor.status_code == 403
    unknown = await service.client.get("/mentees/ghost/suggestions", headers=DIRECTOR)
    assert unknown.status_code == 404

    weights = {"specialty": 0, "interests": 0, "career_stage": 0, "language": 0, "time_zone": 0, "preferences": 0}
    by_mentee = await service.client.put(
        "/programs/default/weights", headers=auth(mentee), json={**weights, "specialty": 1}
    )
    assert by_mentee.status_code == 403
    all_zero = await service.client.put("/programs/default/weights", headers=DIRECTOR, json=weights)
    assert all_zero.status_code == 422 and all_zero.json()["detail"][0]["loc"] == ["body", "weights"]
    negative = await service.client.put("/programs/default/weights", headers=DIRECTOR, json={**weights, "language": -1})
    assert negative.status_code == 422 and negative.json()["detail"][0]["loc"] == ["body", "language"]
    only_interests = await service.client.put(
        "/programs/default/weights", headers=DIRECTOR, json={**weights, "interests": 10}
    )
    assert only_interests.status_code == 200 and only_interests.json()["weights"]["interests"] == 10
    reweighted = await service.client.get(f"/mentees/{mentee}/suggestions", headers=auth(mentee))
    scores = {s["mentor_id"]: s["score"] for s in reweighted.json()["items"]}
    assert scores == {best: 100, good: 33}  # 3 of 3 shared interests vs 1 of 3


async def test_a_bulk_run_proposed_inspected_and_committed(service) -> None:
    mentors = [unique("mentor") for _ in range(2)]
    mentees = [unique("mentee") for _ in range(3)]
    busy = unique("mentee")
    await service.feed(
        *(mentor_registered(m, capacity=1) for m in mentors),
        *(mentee_registered(m) for m in mentees),
        mentee_registered(busy),
    )
    await service.submit(busy, mentors[0])  # an open request keeps a mentee out of the default cohort

    by_mentee = await service.client.post("/bulk-runs", headers=auth(busy), json={"mode": "optimal"})
    assert by_mentee.status_code == 403
    bad_mode = await service.client.post("/bulk-runs", headers=DIRECTOR, json={"mode": "greedy"})
    assert bad_mode.status_code == 422 and bad_mode.json()["detail"][0]["loc"] == ["body", "mode"]
    named_busy = await service.client.post(
        "/bulk-runs", headers=DIRECTOR, json={"mode": "optimal", "mentee_ids": [mentees[0], busy]}
    )
    assert named_busy.status_code == 422 and busy in named_busy.json()["detail"][0]["msg"]
    unknown = await service.client.post(
        "/bulk-runs", headers=DIRECTOR, json={"mode": "optimal", "mentee_ids": ["ghost"]}
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "mentee_ids"]
    bad_pin = await service.client.post(
        "/bulk-runs", headers=DIRECTOR, json={"mode": "stable", "pinned": {busy: mentors[0]}}
    )
    assert bad_pin.status_code == 422 and bad_pin.json()["detail"][0]["loc"] == ["body", "pinned"]

    proposed = await service.client.post(
        "/bulk-runs",
        headers=DIRECTOR,
        json={
            "mode": "stable",
            "pinned": {mentees[2]: mentors[1]},
            "forbidden": [{"mentee_id": mentees[0], "mentor_id": mentors[0]}],
        },
    )
    assert proposed.status_code == 201, proposed.text
    run = proposed.json()
    pairs = {(p["mentee_id"], p["mentor_id"]) for p in run["pairs"]}
    assert (mentees[2], mentors[1]) in pairs and (mentees[0], mentors[0]) not in pairs
    assert len(pairs) == 2 and run["status"] == "proposed"
    summary = run["summary"]
    assert summary["mentees"] == 3 and summary["pairs"] == 2 and summary["unmatched_mentees"] == 1
    assert 0 < summary["mean_score"] <= 1 and run["report"]["mode"] == "stable"
    assert abs(summary["mean_score"] * 100 - run["report"]["mean_score"]) < 1e-6
    assert await service.event_types(run["run_id"]) == ["BulkMatchProposed"]
    assert (await service.client.get(f"/bulk-runs/{run['run_id']}", headers=DIRECTOR)).json()["pairs"] == run["pairs"]

    committed = await service.client.post(f"/bulk-runs/{run['run_id']}/commit", headers=DIRECTOR)
    assert committed.status_code == 200 and committed.json()["matches"] == 2
    [done] = await service.events(run["run_id"], "BulkMatchCommitted")
    assert done["pair_count"] == 2 and done["overridden_count"] == 1
    matches = await service.runtime.pool.fetch(
        "SELECT data FROM events WHERE event_type = 'MatchApproved' ORDER BY data->>'mentee_id'"
    )
    assert {(m["data"]["mentee_id"], m["data"]["mentor_id"]) for m in matches} == pairs
    assert all(m["data"]["mode"] == "bulk" and m["data"]["run_id"] == run["run_id"] for m in matches)
    assert [await service.load(m) for m in mentors] == [1, 1]
    assert (await service.client.post(f"/bulk-runs/{run['run_id']}/commit", headers=DIRECTOR)).status_code == 409
    assert (await service.client.post(f"/bulk-runs/{run['run_id']}/discard", headers=DIRECTOR)).status_code == 409
    assert (await service.client.get("/bulk-runs/ghost", headers=DIRECTOR)).status_code == 404


async def test_commit_rechecks_capacity_and_discard_changes_nothing(service) -> None:
    mentor, mentee, rival = unique("mentor"), unique("mentee"), unique("mentee")
    await service.feed(mentor_registered(mentor, capacity=1), mentee_registered(mentee), mentee_registered(rival))
    first = (
        await service.client.post("/bulk-runs", headers=DIRECTOR, json={"mode": "optimal", "mentee_ids": [mentee]})
    ).json()
    second = (
        await service.client.post("/bulk-runs", headers=DIRECTOR, json={"mode": "optimal", "mentee_ids": [rival]})
    ).json()
    assert [p["mentor_id"] for p in first["pairs"]] == [mentor] == [p["mentor_id"] for p in second["pairs"]]

    assert (await service.client.post(f"/bulk-runs/{first['run_id']}/commit", headers=DIRECTOR)).status_code == 200
    stale = await service.client.post(f"/bulk-runs/{second['run_id']}/commit", headers=DIRECTOR)
    assert stale.status_code == 409 and "no capacity left" in stale.json()["detail"]
    assert await service.load(mentor) == 1
    assert await service.event_types(second["run_id"]) == ["BulkMatchProposed"]
    discarded = await service.client.post(f"/bulk-runs/{second['run_id']}/discard", headers=DIRECTOR)
    assert discarded.status_code == 200
    assert (await service.client.get(f"/bulk-runs/{second['run_id']}", headers=DIRECTOR)).json()[
        "status"
    ] == "discarded"

    everyone_matched = await service.client.post(
        "/bulk-runs", headers=DIRECTOR, json={"mode": "optimal", "mentee_ids": [mentee]}
    )
    assert everyone_matched.status_code == 422 and mentee in everyone_matched.json()["detail"][0]["msg"]


async def test_a_bulk_run_never_pairs_a_mentee_with_their_manager(service) -> None:
    manager, mentee = unique("manager"), unique("mentee")
    e_manager, e_mentee = unique("E"), unique("E")
    await service.feed(
        hired(e_manager, None),
        hired(e_mentee, e_manager),
        mentor_registered(manager, employee_id=e_manager),
        mentee_registered(mentee, employee_id=e_mentee),
    )
    run = await service.client.post("/bulk-runs", headers=DIRECTOR, json={"mode": "optimal", "mentee_ids": [mentee]})
    assert run.status_code == 201 and run.json()["pairs"] == []
    pinned = await service.client.post(
        "/bulk-runs", headers=DIRECTOR, json={"mode": "optimal", "mentee_ids": [mentee], "pinned": {mentee: manager}}
    )
    assert pinned.status_code == 422 and "reporting line" in pinned.json()["detail"][0]["msg"]
