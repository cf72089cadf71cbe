"""Programs as data on Postgres and the broker: the programs API (422 naming the field, 409 on a stale If-Match),
enrolment and its eligibility, per-program capacity racing across programs, one mentor per program, the review
queue's priority order, modes that take no requests, groups, and peer circles formed by bulk runs."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from shared.auth import Role
from shared.events.hr import Worker, WorkerHired, WorkerTransferred
from shared.events.relationships import RelationshipClosed, RelationshipStarted
from tests.helpers import unique, worker_fields
from tests.integration.matching.conftest import DIRECTOR, hired, mentee_registered, mentor_registered
from tests.integration.service_harness import START, auth


def program(program_id: str, **settings) -> dict:
    return {
        "program_id": program_id,
        "name": f"Program {program_id}",
        "model": "one_to_one",
        "matching_mode": "director_review",
        **settings,
    }


async def define(service, program_id: str, **settings) -> dict:
    response = await service.client.post("/programs", headers=DIRECTOR, json=program(program_id, **settings))
    assert response.status_code == 201, response.text
    return response.json()


async def enrol(service, program_id: str, participant_id: str, role: str, expect: int = 201, **more):
    body = {"participant_id": participant_id, "role": role, **more}
    response = await service.client.post(f"/programs/{program_id}/enrolments", headers=DIRECTOR, json=body)
    assert response.status_code == expect, response.text
    return response


async def submit_in(service, program_id: str, mentee_id: str, *ranked: str, expect: int = 201):
    response = await service.client.post(
        "/requests",
        headers=auth(mentee_id, Role.mentee),
        json={"biography": "b", "motivation": "m", "ranked_mentor_ids": list(ranked), "program_id": program_id},
    )
    assert response.status_code == expect, response.text
    return response


def loc(response) -> list:
    return [tuple(d["loc"]) for d in response.json()["detail"]]


# --- the programs API ---------------------------------------------------------------------------------------


async def test_program_crud_names_bad_fields_and_refuses_a_stale_if_match(service) -> None:
    bad = {
        "ends_on": dict(starts_on="2026-09-01", ends_on="2026-08-01"),
        "circle_size": dict(circle_size=4),
        "group_size_max": dict(model="group", matching_mode="admin", group_size_max=21),
        "weights": dict(
            weights=dict.fromkeys(("specialty", "interests", "career_stage", "language", "time_zone", "preferences"), 0)
        ),
        "matching_mode": dict(model="peer", circle_size=4),
        "cadence_weeks_max": dict(cadence_weeks_min=8, cadence_weeks_max=4),
    }
    for field, settings in bad.items():
        response = await service.client.post("/programs", headers=DIRECTOR, json=program("faculty", **settings))
        assert response.status_code == 422, (field, response.text)
        assert any(field in location for location in loc(response)), (field, response.text)
    slug = await service.client.post("/programs", headers=DIRECTOR, json={**program("x"), "program_id": "Not A Slug"})
    assert slug.status_code == 422 and ("body", "program_id") in loc(slug)
    assert "Not A Slug" not in slug.text  # the 422 never echoes the input
    mentee = unique("mentee")
    forbidden = await service.client.post("/programs", headers=auth(mentee, Role.mentee), json=program("faculty"))
    assert forbidden.status_code == 403

    created = await define(service, "faculty", eligibility={"priority_groups": ["urm"]}, response_days=5)
    assert created["version"] == 1 and created["enrolled"] == {"mentors": 0, "mentees": 0, "peers": 0}
    assert created["eligibility"]["priority_groups"] == ["urm"] and created["priority_policy"] == "first"
    again = await service.client.post("/programs", headers=DIRECTOR, json=program("faculty"))
    assert again.status_code == 409
    shown = await service.client.get("/programs/faculty", headers=auth(mentee, Role.mentee))
    assert shown.status_code == 200 and shown.headers["etag"] == '"1"' and shown.json()["response_days"] == 5

    changed = {**program("faculty", response_days=9)}
    changed.pop("program_id")
    updated = await service.client.put("/programs/faculty", headers={**DIRECTOR, "If-Match": '"1"'}, json=changed)
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2 and updated.json()["response_days"] == 9
    stale = await service.client.put("/programs/faculty", headers={**DIRECTOR, "If-Match": '"1"'}, json=changed)
    assert stale.status_code == 409, stale.text
    garbled = await service.client.put("/programs/faculty", headers={**DIRECTOR, "If-Match": "soon"}, json=changed)
    assert garbled.status_code == 422 and ("header", "If-Match") in loc(garbled)
    model = await service.client.put(
        "/programs/faculty", headers=DIRECTOR, json={**changed, "model": "group", "group_size_max": 5}
    )
    assert model.status_code == 422 and ("body", "model") in loc(model)
    assert (await service.client.get("/programs/nope", headers=DIRECTOR)).status_code == 404

    listed = (await service.client.get("/programs", headers=DIRECTOR)).json()["programs"]
    assert [p["program_id"] for p in listed] == ["default", "faculty"]
    assert listed[0]["model"] == "one_to_one" and listed[0]["matching_mode"] == "director_review"
    # the routes that predate programs as data still work, on any program
    weights = {"specialty": 1, "interests": 1, "career_stage": 1, "language": 1, "time_zone": 1, "preferences": 1}
    put = await service.client.put("/programs/faculty/weights", headers=DIRECTOR, json=weights)
    assert put.status_code == 200 and put.json()["weights"] == weights and put.json()["version"] == 3
    assert await service.event_types("faculty") == ["ProgramDefined", "ProgramChanged", "ProgramChanged"]


# --- enrolment ----------------------------------------------------------------------------------------------


async def test_enrolment_eligibility_and_self_service(service) -> None:
    mentor, inside, outside, other_stage = unique("mentor"), unique("mentee"), unique("mentee"), unique("mentee")
    nurse = unique("mentee")
    await service.feed(
        mentor_registered(mentor),
        mentee_registered(inside, department="cardiology").model_copy(update={"priority_group": "urm"}),
        mentee_registered(outside, department="surgery").model_copy(update={"priority_group": "urm"}),
        mentee_registered(other_stage, department="cardiology", career_stage="senior").model_copy(
            update={"priority_group": "urm"}
        ),
        mentee_registered(nurse, employee_id=f"E-{nurse}", department="cardiology").model_copy(
            update={"priority_group": "urm"}
        ),
        WorkerHired(
            employee_id=f"E-{nurse}",
            effective_date=date(2020, 1, 1),
            recorded_at=START,
            worker=Worker(**{**worker_fields(f"E-{nurse}", supervisor_id=None), "job_function": "clinical"}),
        ),
    )
    await define(
        service,
        "diversity",
        eligibility={
            "departments": ["cardiology"],
            "career_stages": ["early_career"],
            "priority_groups": ["urm"],
            "hr_attributes": {"job_function": ["faculty"]},
        },
    )
    # the inside mentee has no HR record: the HR rule names itself
    refused = await enrol(service, "diversity", inside, "mentee", expect=422)
    assert ("body", "eligibility", "hr_attributes", "job_function") in loc(refused)
    assert ("body", "eligibility", "departments") in loc(await enrol(service, "diversity", outside, "mentee", 422))
    assert ("body", "eligibility", "career_stages") in loc(
        await enrol(service, "diversity", other_stage, "mentee", 422)
    )
    clinical = await enrol(service, "diversity", nurse, "mentee", expect=422)
    assert ("body", "eligibility", "hr_attributes", "job_function") in loc(clinical)

    await define(service, "open", eligibility={"departments": ["cardiology"]})
    own = await service.client.post("/programs/open/enrolments", headers=auth(inside), json={"role": "mentee"})
    assert own.status_code == 201, own.text
    twice = await service.client.post("/programs/open/enrolments", headers=auth(inside), json={"role": "mentee"})
    assert twice.status_code == 409
    someone_else = await service.client.post(
        "/programs/open/enrolments", headers=auth(inside), json={"role": "mentee", "participant_id": nurse}
    )
    assert someone_else.status_code == 403
    capacity = await enrol(service, "open", nurse, "mentee", expect=422, capacity=2)
    assert ("body", "capacity") in loc(capacity)
    assert ("body", "role") in loc(await enrol(service, "open", nurse, "peer", expect=422))
    await enrol(service, "open", mentor, "mentor", capacity=1)  # mentors are not held to the mentee rules
    mine = (await service.client.get("/enrolments", headers=auth(inside))).json()["enrolments"]
    assert mine == [{"program_id": "open", "program_name": "Program open", "role": "mentee", "capacity": None}]
    listed = (await service.client.get("/programs/open/enrolments", headers=DIRECTOR)).json()["enrolments"]
    assert [(e["participant_id"], e["role"], e["capacity"]) for e in listed] == [
        (inside, "mentee", None),
        (mentor, "mentor", 1),
    ]
    assert (await service.client.get("/programs/open", headers=DIRECTOR)).json()["enrolled"] == {
        "mentors": 1,
        "mentees": 1,
        "peers": 0,
    }
    request_id = (await submit_in(service, "open", inside, mentor)).json()["request_id"]
    stranger = await service.client.delete(f"/programs/open/enrolments/{inside}", headers=auth(nurse))
    assert stranger.status_code == 404
    left = await service.client.delete(f"/programs/open/enrolments/{inside}", headers=auth(inside))
    assert left.status_code == 204
    assert (await service.request(request_id))["status"] == "withdrawn"  # leaving withdraws what is not matched
    assert (await service.client.get("/enrolments", headers=auth(inside))).json()["enrolments"] == []
    await enrol(service, "open", inside, "mentee")  # may enrol again after leaving


# --- per-program rules --------------------------------------------------------------------------------------


async def test_two_mentors_for_one_mentee_in_two_programs_and_one_per_program(service) -> None:
    first, second, third, mentee = unique("mentor"), unique("mentor"), unique("mentor"), unique("mentee")
    await service.feed(*(mentor_registered(m) for m in (first, second, third)), mentee_registered(mentee))
    await define(service, "research", response_days=3)
    for m in (second, third):
        await enrol(service, "research", m, "mentor")
    await enrol(service, "research", mentee, "mentee")

    in_default = (await submit_in(service, "default", mentee, first)).json()["request_id"]
    await service.approve(in_default)
    assert (await service.answer(in_default, first, True)).status_code == 200
    # a mentor in "default" does not stop a request in "research"; an open request there does not either
    not_enrolled = await submit_in(service, "research", mentee, first, expect=422)  # first is not in research
    assert "not enrolled" in not_enrolled.text
    in_research = (await submit_in(service, "research", mentee, second)).json()["request_id"]
    second_open = await submit_in(service, "research", mentee, third, expect=409)
    assert "open request" in second_open.json()["detail"]
    await service.approve(in_research)
    waiting = await service.request(in_research)
    assert waiting["respond_by"].startswith((service.clock.now() + timedelta(days=3)).date().isoformat())
    assert (await service.answer(in_research, second, True)).status_code == 200
    assert await service.runtime.pool.fetchval("SELECT count(*) FROM active_pairs WHERE mentee_id = $1", mentee) == 2
    again = await submit_in(service, "research", mentee, third, expect=409)
    assert "already has a mentor in this program" in again.json()["detail"]
    suggested = await service.client.get(f"/mentees/{mentee}/suggestions?program_id=research", headers=DIRECTOR)
    assert [item["mentor_id"] for item in suggested.json()["items"]] == [third]  # research's, not yet theirs
    matched = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE event_type = 'MatchApproved' ORDER BY stream_id"
    )
    assert sorted(m["program_id"] for m in matched) == ["default", "research"]
    filtered = await service.client.get("/requests?program_id=research", headers=DIRECTOR)
    assert [r["request_id"] for r in filtered.json()["items"]] == [in_research]
    assert filtered.json()["items"][0]["program_id"] == "research"


async def test_per_program_capacity_holds_when_two_programs_race_for_the_last_slot(service) -> None:
    mentor, own_slots = unique("mentor"), unique("mentor")
    mentees = [unique("mentee") for _ in range(4)]
    await service.feed(
        mentor_registered(mentor, capacity=1),
        mentor_registered(own_slots, capacity=1),
        *(mentee_registered(m) for m in mentees),
    )
    await define(service, "alpha", matching_mode="admin")
    await define(service, "beta", matching_mode="admin")
    for p in ("alpha", "beta"):
        await enrol(service, p, mentor, "mentor")  # both share the mentor's one slot
    await enrol(service, "alpha", own_slots, "mentor", capacity=1)  # own capacity in alpha...
    await enrol(service, "beta", own_slots, "mentor")  # ...and the shared one in beta
    for p, m in (("alpha", mentees[0]), ("beta", mentees[1]), ("alpha", mentees[2]), ("beta", mentees[3])):
        await enrol(service, p, m, "mentee")

    async def group(program_id: str, mentor_id: str, mentee_id: str):
        return await service.client.post(
            f"/programs/{program_id}/groups",
            headers=DIRECTOR,
            json={"mentor_ids": [mentor_id], "mentee_ids": [mentee_id]},
        )

    # groups need a group program; a one-to-one program's admin matches go through bulk runs: race those
    proposals = []
    for p, m in (("alpha", mentees[0]), ("beta", mentees[1])):
        run = await service.client.post(
            "/bulk-runs",
            headers=DIRECTOR,
            json={"mode": "optimal", "mentee_ids": [m], "program_id": p, "pinned": {m: mentor}},
        )
        assert run.status_code == 201, run.text
        proposals.append(run.json()["run_id"])
    commits = await asyncio.gather(
        *(service.client.post(f"/bulk-runs/{run_id}/commit", headers=DIRECTOR) for run_id in proposals)
    )
    assert sorted(c.status_code for c in commits) == [200, 409], [c.text for c in commits]
    assert "no capacity left" in next(c for c in commits if c.status_code == 409).text
    assert await service.load(mentor) == 1
    assert (await group("alpha", mentor, mentees[2])).status_code == 422  # alpha is one-to-one

    # own capacity in alpha and the shared one in beta are separate: both commits win
    proposals = []
    for p, m in (("alpha", mentees[2]), ("beta", mentees[3])):
        run = await service.client.post(
            "/bulk-runs",
            headers=DIRECTOR,
            json={"mode": "optimal", "mentee_ids": [m], "program_id": p, "pinned": {m: own_slots}},
        )
        proposals.append(run.json()["run_id"])
    commits = await asyncio.gather(
        *(service.client.post(f"/bulk-runs/{run_id}/commit", headers=DIRECTOR) for run_id in proposals)
    )
    assert [c.status_code for c in commits] == [200, 200], [c.text for c in commits]
    assert await service.load(own_slots) == 2


async def test_modes_that_take_no_requests_and_self_match(service) -> None:
    mentor, mentee = unique("mentor"), unique("mentee")
    await service.feed(mentor_registered(mentor), mentee_registered(mentee))
    await define(service, "bulk-only", matching_mode="bulk")
    await define(service, "quick", matching_mode="self_match")
    for p in ("bulk-only", "quick"):
        await enrol(service, p, mentor, "mentor")
        await enrol(service, p, mentee, "mentee")
    refused = await submit_in(service, "bulk-only", mentee, mentor, expect=409)
    assert "matched by bulk runs" in refused.json()["detail"]
    unknown = await submit_in(service, "nope", mentee, mentor, expect=404)
    assert "no program nope" in unknown.text
    request_id = (await submit_in(service, "quick", mentee, mentor)).json()["request_id"]
    view = await service.request(request_id)
    assert view["status"] == "forwarded" and view["mentor_id"] == mentor  # no director review
    assert (await service.answer(request_id, mentor, True)).status_code == 200


async def test_the_review_queue_serves_priority_groups_first_in_the_programs_order(service) -> None:
    mentor = unique("mentor")
    plain, second_group, first_group, late_first = (unique("mentee") for _ in range(4))
    await service.feed(
        mentor_registered(mentor, capacity=10),
        mentee_registered(plain),
        mentee_registered(second_group).model_copy(update={"priority_group": "veterans"}),
        mentee_registered(first_group).model_copy(update={"priority_group": "urm"}),
        mentee_registered(late_first).model_copy(update={"priority_group": "urm"}),
    )
    await define(service, "equity", eligibility={"priority_groups": ["urm", "veterans"]})
    await enrol(service, "equity", mentor, "mentor")
    order = []
    for m in (plain, second_group, first_group, late_first):  # submitted in this order
        if m == plain:  # in no priority group, so not eligible for "equity": asks in "default"
            order.append((await submit_in(service, "default", m, mentor)).json()["request_id"])
        else:
            await enrol(service, "equity", m, "mentee")
            order.append((await submit_in(service, "equity", m, mentor)).json()["request_id"])
        service.clock.advance(timedelta(minutes=1))
    queue = (await service.client.get("/requests?status=submitted", headers=DIRECTOR)).json()["items"]
    assert [r["request_id"] for r in queue] == [order[2], order[3], order[1], order[0]]
    assert [r["priority_group"] for r in queue] == ["urm", "urm", "veterans", None]
    # The mentee reads their own group; anyone else but the director never learns it.
    own = await service.client.get(f"/requests/{order[2]}", headers=auth(first_group, Role.mentee))
    assert own.json()["priority_group"] == "urm"


# --- groups and peer circles --------------------------------------------------------------------------------


async def test_a_group_takes_one_slot_of_each_mentor_and_its_closure_frees_it(service) -> None:
    lead, co, busy = unique("mentor"), unique("mentor"), unique("mentor")
    mentees = [unique("mentee") for _ in range(4)]
    await service.feed(
        mentor_registered(lead, capacity=1),
        mentor_registered(co, capacity=2),
        *(mentee_registered(m) for m in mentees),
    )
    await define(service, "residents", model="group", matching_mode="admin", group_size_max=3)
    for m in (lead, co):
        await enrol(service, "residents", m, "mentor")
    for m in mentees:
        await enrol(service, "residents", m, "mentee")
    too_big = await service.client.post(
        "/programs/residents/groups", headers=DIRECTOR, json={"mentor_ids": [lead], "mentee_ids": mentees}
    )
    assert too_big.status_code == 422 and ("body", "mentee_ids") in loc(too_big)
    not_enrolled = await service.client.post(
        "/programs/residents/groups", headers=DIRECTOR, json={"mentor_ids": [busy], "mentee_ids": mentees[:1]}
    )
    assert not_enrolled.status_code == 422 and ("body", "mentor_ids") in loc(not_enrolled)
    formed = await service.client.post(
        "/programs/residents/groups", headers=DIRECTOR, json={"mentor_ids": [lead, co], "mentee_ids": mentees[:3]}
    )
    assert formed.status_code == 201, formed.text
    match_id = formed.json()["match_id"]
    event = (await service.events(match_id, "GroupFormed"))[0]
    assert event["mentor_ids"] == [lead, co] and event["mentee_ids"] == mentees[:3] and event["model"] == "group"
    slots = "SELECT mentor_load($1, 'residents')"
    assert await service.runtime.pool.fetchval(slots, lead) == 1  # three mentees, one slot
    full = await service.client.post(
        "/programs/residents/groups", headers=DIRECTOR, json={"mentor_ids": [lead], "mentee_ids": mentees[3:]}
    )
    assert full.status_code == 409 and "no capacity left" in full.text
    twice = await service.client.post(
        "/programs/residents/groups", headers=DIRECTOR, json={"mentor_ids": [co], "mentee_ids": mentees[:1]}
    )
    assert twice.status_code == 422 and "already in a group" in twice.text

    relationship_id = unique("rel")
    await service.feed(
        RelationshipStarted(
            relationship_id=relationship_id,
            model="group",
            mentor_id=lead,
            mentee_ids=mentees[:3],
            match_id=match_id,
            started_on=date(2026, 1, 5),
        ),
        RelationshipClosed(
            relationship_id=relationship_id,
            reason="objectives_achieved",
            mentor_id=lead,
            mentee_ids=mentees[:3],
            rematch_requested=False,
            closed_on=date(2026, 6, 1),
        ),
    )
    assert await service.runtime.pool.fetchval(slots, lead) == 0
    assert await service.runtime.pool.fetchval(slots, co) == 0  # the co-mentor's slot is freed with the group
    again = await service.client.post(
        "/programs/residents/groups", headers=DIRECTOR, json={"mentor_ids": [lead], "mentee_ids": mentees[:2]}
    )
    assert again.status_code == 201, again.text


async def test_a_peer_circle_bulk_run_holds_the_circle_size_and_commits_one_group_per_circle(service) -> None:
    peers = [unique("peer") for _ in range(11)]
    await service.feed(*(mentee_registered(p) for p in peers))
    await define(service, "new-hires", model="peer", matching_mode="bulk", circle_size=4)
    for p in peers:
        await enrol(service, "new-hires", p, "peer")
    run = await service.client.post("/bulk-runs", headers=DIRECTOR, json={"mode": "optimal", "program_id": "new-hires"})
    assert run.status_code == 201, run.text
    run_id = run.json()["run_id"]
    view = (await service.client.get(f"/bulk-runs/{run_id}", headers=DIRECTOR)).json()
    sizes = sorted(len(c["member_ids"]) for c in view["circles"])
    assert sizes == [3, 4, 4] and all(3 <= s <= 5 for s in sizes)  # 11 peers, circles of 4 ± 1
    assert sorted(m for c in view["circles"] for m in c["member_ids"]) == sorted(peers)
    assert view["summary"]["circles"] == 3 and view["program_id"] == "new-hires"
    committed = await service.client.post(f"/bulk-runs/{run_id}/commit", headers=DIRECTOR)
    assert committed.status_code == 200, committed.text
    formed = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE event_type = 'GroupFormed' ORDER BY stream_id"
    )
    assert len(formed) == 3 and all(f["model"] == "peer" and f["mentor_ids"] == [] for f in formed)
    assert all(f["run_id"] == run_id for f in formed)
    assert sorted(len(f["mentee_ids"]) for f in formed) == [3, 4, 4]
    proposed = (await service.events(run_id, "BulkMatchProposed"))[0]
    assert proposed["program_id"] == "new-hires"
    none_left = await service.client.post(
        "/bulk-runs", headers=DIRECTOR, json={"mode": "optimal", "program_id": "new-hires"}
    )
    assert none_left.status_code == 422  # everyone is in a circle now


async def test_eligibility_follows_an_hr_transfer(service) -> None:
    mentee = unique("mentee")
    employee = f"E-{mentee}"
    await service.feed(mentee_registered(mentee, employee_id=employee), hired(employee, None))
    await define(service, "by-hr", eligibility={"hr_attributes": {"location": ["Main campus"]}})
    response = await enrol(service, "by-hr", mentee, "mentee", expect=422)
    assert ("body", "eligibility", "hr_attributes", "location") in loc(response)
    moved = WorkerTransferred(
        employee_id=employee,
        effective_date=date(2026, 2, 1),
        recorded_at=START,
        old_department_id="D1",
        new_department_id="D2",
        new_department_name="Cardiology",
        new_location="Main campus",
    )
    await service.feed(moved)
    await enrol(service, "by-hr", mentee, "mentee")


async def test_the_director_forms_a_peer_circle_and_two_groups_never_take_one_mentee(service) -> None:
    peers = [unique("peer") for _ in range(3)]
    mentors, mentee = [unique("mentor") for _ in range(2)], unique("mentee")
    await service.feed(
        *(mentee_registered(p) for p in peers), *(mentor_registered(m) for m in mentors), mentee_registered(mentee)
    )
    await define(service, "peers", model="peer", matching_mode="admin", circle_size=3)
    for p in peers:
        await enrol(service, "peers", p, "peer")
    with_mentor = await service.client.post(
        "/programs/peers/groups", headers=DIRECTOR, json={"mentor_ids": [mentors[0]], "mentee_ids": peers}
    )
    assert with_mentor.status_code == 422 and ("body", "mentor_ids") in loc(with_mentor)
    circle = await service.client.post("/programs/peers/groups", headers=DIRECTOR, json={"mentee_ids": peers})
    assert circle.status_code == 201, circle.text
    formed = (await service.events(circle.json()["match_id"], "GroupFormed"))[0]
    assert formed["model"] == "peer" and formed["mentor_ids"] == [] and formed["mentee_ids"] == peers

    await define(service, "cohort", model="group", matching_mode="admin", group_size_max=5)
    for m in mentors:
        await enrol(service, "cohort", m, "mentor")
    await enrol(service, "cohort", mentee, "mentee")
    answers = await asyncio.gather(
        *(
            service.client.post(
                "/programs/cohort/groups", headers=DIRECTOR, json={"mentor_ids": [m], "mentee_ids": [mentee]}
            )
            for m in mentors
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
    members = "SELECT count(*) FROM group_members WHERE participant_id = $1 AND program_id = 'cohort'"
    assert await service.runtime.pool.fetchval(members, mentee) == 1
