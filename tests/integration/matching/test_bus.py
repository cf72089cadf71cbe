"""What matching follows on the real broker: the reporting line, departures, capacity and closures."""

from __future__ import annotations

from datetime import date

from services.matching.domain.request import rematch_request_id
from shared.auth import Role
from shared.events.hr import WorkerTransferred
from shared.events.profiles import (
    FieldChange,
    MentorCapacityChanged,
    ParticipantReactivated,
    ProfileUpdated,
)
from shared.events.relationships import RelationshipClosed, RelationshipStarted
from tests.helpers import unique
from tests.integration.matching.conftest import DIRECTOR, deactivated, hired, mentee_registered, mentor_registered
from tests.integration.service_harness import START, auth


async def test_a_mentor_above_the_mentee_in_the_reporting_line_is_never_offered(service) -> None:
    chief, manager, peer, mentee = unique("chief"), unique("manager"), unique("peer"), unique("mentee")
    e_chief, e_manager, e_middle, e_mentee, e_peer = (unique("E") for _ in range(5))
    await service.feed(
        hired(e_chief, None),
        hired(e_manager, e_chief),
        hired(e_middle, e_manager),
        hired(e_mentee, e_middle),
        hired(e_peer, e_chief),
        mentor_registered(chief, employee_id=e_chief),
        mentor_registered(manager, employee_id=e_manager),
        mentor_registered(peer, employee_id=e_peer),
        mentee_registered(mentee, employee_id=e_mentee),
    )
    for boss in (chief, manager):  # the mentee's grand-manager and great-grand-manager (the middle one takes no part)
        response = await service.client.post(
            "/requests",
            headers=auth(mentee),
            json={"biography": "x", "motivation": "y", "ranked_mentor_ids": [peer, boss]},
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == f"mentor {boss} is in the mentee's reporting line"
    suggested = await service.client.get(f"/mentees/{mentee}/suggestions", params={"k": 10}, headers=auth(mentee))
    assert [s["mentor_id"] for s in suggested.json()["items"]] == [peer]

    rid = await service.submit(mentee, peer)
    await service.approve(rid)
    # HR moves the peer's team under the mentee's line: the peer is now above the mentee; no match can follow
    await service.feed(
        WorkerTransferred(
            employee_id=e_middle,
            effective_date=date(2026, 3, 1),
            recorded_at=START,
            old_department_id="D1",
            new_department_id="D2",
            new_department_name="Surgery",
            new_supervisor_id=e_peer,
        )
    )
    refused = await service.answer(rid, peer, True)
    assert refused.status_code == 409 and "reporting line" in refused.json()["detail"]
    late_fact = hired(e_middle, e_manager).model_copy(update={"effective_date": date(2019, 1, 1)})
    await service.feed(late_fact)  # an older record arriving late changes nothing
    assert (await service.answer(rid, peer, True)).status_code == 409


async def test_departures_withdraw_requests_pass_them_on_and_leave_the_directory(service) -> None:
    leaving, staying, mentee, leaving_mentee = (unique(p) for p in ("mentor", "mentor", "mentee", "mentee"))
    await service.feed(
        mentor_registered(leaving),
        mentor_registered(staying),
        mentee_registered(mentee),
        mentee_registered(leaving_mentee),
    )
    waiting_for_leaving = await service.submit(mentee, leaving, staying)
    await service.approve(waiting_for_leaving)
    own = await service.submit(leaving_mentee, staying)

    await service.feed(deactivated(leaving), deactivated(leaving_mentee))
    passed_on = await service.request(waiting_for_leaving)
    assert passed_on["status"] == "forwarded" and passed_on["mentor_id"] == staying and passed_on["choice_rank"] == 2
    withdrawn = await service.request(own)
    assert withdrawn["status"] == "withdrawn"
    [event] = await service.events(own, "RequestWithdrawn")
    assert event["mentee_id"] == leaving_mentee and "deactivated" in event["reason"]
    directory = await service.client.get("/directory/mentors", headers=auth(mentee))
    assert leaving not in {m["mentor_id"] for m in directory.json()["items"]}

    await service.feed(ParticipantReactivated(participant_id=leaving, effective_date=date(2026, 4, 1)))
    directory = await service.client.get("/directory/mentors", headers=auth(mentee))
    assert leaving in {m["mentor_id"] for m in directory.json()["items"]}


async def test_capacity_changes_and_relationships_hold_and_free_slots(service) -> None:
    mentor, mentee, other = unique("mentor"), unique("mentee"), unique("mentee")
    await service.feed(mentor_registered(mentor, capacity=1), mentee_registered(mentee), mentee_registered(other))
    rid = await service.submit(mentee, mentor)
    await service.approve(rid)
    assert (await service.answer(rid, mentor, True)).status_code == 200
    await service.feed(
        RelationshipStarted(
            relationship_id="r-1",
            model="one_to_one",
            mentor_id=mentor,
            mentee_ids=[mentee],
            match_id=rid,
            started_on=date(2026, 3, 2),
        )
    )
    assert await service.load(mentor) == 1  # the relationship from our own match holds the same slot
    full = await service.client.post(
        "/requests", headers=auth(other), json={"biography": "x", "motivation": "y", "ranked_mentor_ids": [mentor]}
    )
    assert full.status_code == 422 and "no capacity" in full.json()["detail"][0]["msg"]

    await service.feed(MentorCapacityChanged(participant_id=mentor, old_capacity=1, new_capacity=2))
    second = await service.submit(other, mentor)
    await service.client.post(f"/requests/{second}/withdrawal", headers=auth(other), json={})
    await service.feed(MentorCapacityChanged(participant_id=mentor, old_capacity=2, new_capacity=1))

    await service.feed(
        RelationshipClosed(
            relationship_id="r-1",
            reason="objectives_achieved",
            mentor_id=mentor,
            mentee_ids=[mentee],
            rematch_requested=False,
            closed_on=date(2026, 9, 1),
        )
    )
    assert await service.load(mentor) == 0
    assert (await service.client.get("/requests", params={"status": "unmatched"}, headers=DIRECTOR)).json()[
        "items"
    ] == []
    await service.submit(other, mentor)

    await service.feed(
        RelationshipStarted(
            relationship_id="r-2",
            model="group",
            mentor_id=mentor,
            mentee_ids=[unique("m"), unique("m")],
            match_id="direct-1",
            started_on=date(2026, 9, 2),
        )
    )
    assert await service.load(mentor) == 2  # a group the director started directly counts too


async def test_a_closure_asking_for_a_rematch_reopens_the_mentees_request_flow(service) -> None:
    mentor, new_mentor, mentee = unique("mentor"), unique("mentor"), unique("mentee")
    await service.feed(mentor_registered(mentor), mentor_registered(new_mentor), mentee_registered(mentee))
    rid = await service.submit(mentee, mentor)
    await service.approve(rid)
    await service.answer(rid, mentor, True)
    closure = RelationshipClosed(
        relationship_id="r-9",
        reason="no_fault_mentee",
        closed_by=mentee,
        mentor_id=mentor,
        mentee_ids=[mentee],
        rematch_requested=True,
        closed_on=date(2026, 6, 1),
    )
    await service.feed(closure, closure)  # the same fact twice (two envelopes) opens one rematch request
    assert await service.load(mentor) == 0
    rematch = rematch_request_id("r-9", mentee)
    view = await service.request(rematch)
    assert view["status"] == "unmatched" and view["origin"] == "rematch" and view["mentee_id"] == mentee
    assert await service.event_types(rematch) == ["RequestUnmatched"]
    own = await service.client.get(f"/requests/{rematch}", headers=auth(mentee, Role.mentee))
    assert own.status_code == 200

    # the mentee asks anew; the waiting rematch request is superseded
    fresh = await service.submit(mentee, new_mentor)
    assert (await service.request(rematch))["status"] == "withdrawn"
    [withdrawn] = await service.events(rematch, "RequestWithdrawn")
    assert fresh in withdrawn["reason"]


async def test_profile_edits_reach_suggestions(service) -> None:
    mentor, mentee = unique("mentor"), unique("mentee")
    await service.feed(mentor_registered(mentor, specialty="oncology"), mentee_registered(mentee))
    before = (await service.client.get(f"/mentees/{mentee}/suggestions", headers=auth(mentee))).json()["items"]
    await service.feed(
        ProfileUpdated(
            participant_id=mentor, changes=[FieldChange(field="profile.specialty", old="oncology", new="cardiology")]
        )
    )
    after = (await service.client.get(f"/mentees/{mentee}/suggestions", headers=auth(mentee))).json()["items"]
    assert after[0]["score"] > before[0]["score"] and "same specialty: cardiology" in after[0]["reason"]
    await service.feed(
        ProfileUpdated(
            participant_id=mentor, changes=[FieldChange(field="availability.accepting_requests", old=True, new=False)]
        )
    )
    assert (await service.client.get(f"/mentees/{mentee}/suggestions", headers=auth(mentee))).json()["items"] == []


async def test_an_erasure_withdraws_requests_and_scrubs_what_matching_copied(service) -> None:
    from shared.events.profiles import ParticipantErased

    mentor, mentee = unique("mentor"), unique("mentee")
    await service.feed(mentor_registered(mentor), mentee_registered(mentee))
    own = await service.submit(mentee, mentor)

    await service.feed(ParticipantErased(participant_id=mentee), ParticipantErased(participant_id=mentor))
    assert (await service.request(own))["status"] == "withdrawn"
    pool = service.runtime.pool
    assert await pool.fetchval("SELECT name FROM mentees WHERE mentee_id = $1", mentee) == "[erased]"
    assert (
        await pool.fetchval("SELECT biography || motivation FROM requests WHERE request_id = $1", own)
        == "[erased][erased]"
    )
    assert await pool.fetchrow("SELECT name, biography, active FROM mentor_directory WHERE mentor_id = $1", mentor) == (
        "[erased]",
        "[erased]",
        False,
    )
