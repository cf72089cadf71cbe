"""Every transition over HTTP on real Postgres (and the broker the service runs with), illegal ones included."""

from __future__ import annotations

from shared.auth import Role
from tests.integration.relationships.conftest import ANALYST, DIRECTOR, MENTEE, MENTOR, STRANGER, days
from tests.integration.service_harness import auth


async def test_agreement_negotiation_moves_preparing_to_negotiating_to_enabling(service) -> None:
    rid = await service.start_one_to_one()
    assert (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()["phase"] == "preparing"

    body = {
        "cadence_weeks_min": 4,
        "cadence_weeks_max": 6,
        "format": "in_person",
        "goals": [
            {"goal_id": "g1", "text": "Publish first-author paper", "measure": "accepted", "due_on": "2026-11-30"}
        ],
        "development_plan": [{"title": "Draft manuscript", "due_on": "2026-06-01"}],
    }
    proposed = await service.client.put(f"/relationships/{rid}/agreement", json=body, headers=MENTEE)
    assert proposed.json()["revision"] == 1
    assert (await service.client.get(f"/relationships/{rid}", headers=MENTOR)).json()["phase"] == "negotiating"

    sign = {"revision": 1, "confidentiality_accepted": True, "no_fault_termination_acknowledged": True}
    first = await service.client.post(f"/relationships/{rid}/agreement/signatures", json=sign, headers=MENTOR)
    assert first.json() == {"revision": 1, "signed_by": ["mentor-1"], "concluded": False}
    twice = await service.client.post(f"/relationships/{rid}/agreement/signatures", json=sign, headers=MENTOR)
    assert twice.status_code == 409 and twice.json()["detail"] == "mentor-1 has already signed revision 1"
    refused = await service.client.post(
        f"/relationships/{rid}/agreement/signatures", json={**sign, "confidentiality_accepted": False}, headers=MENTEE
    )
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "confidentiality_accepted"]
    last = await service.client.post(f"/relationships/{rid}/agreement/signatures", json=sign, headers=MENTEE)
    assert last.json()["concluded"] is True
    again = await service.client.post(f"/relationships/{rid}/agreement/signatures", json=sign, headers=MENTEE)
    assert again.status_code == 409 and "already signed by all parties" in again.json()["detail"]

    detail = (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()
    assert detail["phase"] == "enabling" and detail["cadence_weeks_max"] == 6
    assert detail["agreement"]["terms"]["development_plan"][0]["title"] == "Draft manuscript"
    assert detail["review_due_on"] == "2027-03-02" and detail["goals"][0]["goal_id"] == "g1"
    assert await service.event_types(rid) == ["RelationshipStarted", "AgreementSigned"]


async def test_group_and_peer_relationships_and_who_may_see_them(service) -> None:
    group = await service.client.post(
        "/relationships",
        headers=DIRECTOR,
        json={"model": "group", "mentor_id": "mentor-1", "mentee_ids": ["mentee-1", "mentee-2", "mentee-3"]},
    )
    peer = await service.client.post(
        "/relationships", headers=DIRECTOR, json={"model": "peer", "mentee_ids": ["peer-a", "peer-b"]}
    )
    assert group.status_code == peer.status_code == 201
    with_mentor = await service.client.post(
        "/relationships",
        headers=DIRECTOR,
        json={"model": "peer", "mentor_id": "peer-a", "mentee_ids": ["peer-b", "peer-c"]},
    )
    assert with_mentor.status_code == 422 and with_mentor.json()["detail"][0]["loc"] == ["body", "mentor_id"]
    alone = await service.client.post("/relationships", headers=DIRECTOR, json={"model": "peer", "mentee_ids": ["p"]})
    assert alone.status_code == 422 and alone.json()["detail"][0]["loc"] == ["body", "mentee_ids"]
    pair_of_two = await service.client.post(
        "/relationships", headers=DIRECTOR, json={"model": "one_to_one", "mentor_id": "m", "mentee_ids": ["a", "b"]}
    )
    assert pair_of_two.status_code == 422 and pair_of_two.json()["detail"][0]["loc"] == ["body", "mentee_ids"]
    by_mentor = await service.client.post(
        "/relationships", headers=MENTOR, json={"model": "peer", "mentee_ids": ["peer-a", "peer-b"]}
    )
    assert by_mentor.status_code == 403

    gid = group.json()["relationship_id"]
    mine = (await service.client.get("/relationships", headers=auth("mentee-2", Role.mentee))).json()["items"]
    assert [r["relationship_id"] for r in mine] == [gid]
    assert len((await service.client.get("/relationships", headers=DIRECTOR)).json()["items"]) == 2
    refused = await service.client.get(f"/relationships/{gid}", headers=STRANGER)  # as if there were none
    unknown = await service.client.get("/relationships/00000000-0000-4000-8000-000000000000", headers=STRANGER)
    assert (refused.status_code, refused.json()) == (404, {"detail": f"no relationship {gid}"})
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"detail": "no relationship 00000000-0000-4000-8000-000000000000"},
    )
    assert (await service.client.get(f"/relationships/{gid}", headers=ANALYST)).status_code == 403
    assert (await service.client.get("/relationships", headers=ANALYST)).status_code == 403
    status = (await service.client.get(f"/relationships/{gid}", headers=DIRECTOR)).json()
    assert (
        status["phase"] == "preparing"
        and status["meetings"] == 0
        and "agreement" not in status
        and "goals" not in status
    )


async def test_meetings_notes_goals_and_who_reads_the_notes(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)
    service.clock.advance(days(20))
    secret = "she is thinking of leaving for industry"
    logged = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=MENTEE,
        json={
            "held_on": "2026-03-20",
            "duration_minutes": 50,
            "format": "video",
            "topic_tags": ["manuscripts", "work_life_balance"],
            "notes": secret,
        },
    )
    assert logged.status_code == 201, logged.text

    notes = await service.client.get(f"/relationships/{rid}/notes", headers=MENTOR)
    assert [n["text"] for n in notes.json()] == [secret] and notes.json()[0]["author_id"] == "mentee-1"
    refused = await service.client.get(f"/relationships/{rid}/notes", headers=DIRECTOR)
    assert refused.status_code == 403
    assert refused.json()["detail"] == f"meeting notes are confidential to the parties of relationship {rid}"
    refused = await service.client.get(f"/relationships/{rid}/notes", headers=STRANGER)  # not theirs to know of
    assert (refused.status_code, refused.json()) == (404, {"detail": f"no relationship {rid}"})
    assert (await service.client.get(f"/relationships/{rid}/notes", headers=ANALYST)).status_code == 403

    stored = await service.runtime.pool.fetchrow("SELECT key_id, ciphertext FROM confidential_texts")
    assert stored["key_id"] == "test" and secret.encode() not in bytes(stored["ciphertext"])
    assert await service.runtime.pool.fetchval("SELECT count(*) FROM events WHERE data::text LIKE '%industry%'") == 0

    wrong_tag = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=MENTOR,
        json={"held_on": "2026-03-20", "duration_minutes": 50, "format": "video", "topic_tags": ["gossip"]},
    )
    assert wrong_tag.status_code == 422 and wrong_tag.json()["detail"][0]["loc"] == ["body", "topic_tags"]
    missing = await service.client.post(
        f"/relationships/{rid}/meetings", headers=MENTOR, json={"duration_minutes": 50, "format": "video"}
    )
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "held_on"]
    by_stranger = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=STRANGER,
        json={"held_on": "2026-03-20", "duration_minutes": 50, "format": "video"},
    )
    assert (by_stranger.status_code, by_stranger.json()) == (404, {"detail": f"no relationship {rid}"})

    goal = await service.client.post(
        f"/relationships/{rid}/goals",
        headers=MENTOR,
        json={
            "text": "Learn to negotiate start-up package",
            "measure": "offer letter reviewed",
            "due_on": "2026-09-01",
        },
    )
    goal_id = goal.json()["goal_id"]
    progressed = await service.client.post(
        f"/relationships/{rid}/goals/{goal_id}/progress",
        headers=MENTEE,
        json={"status": "in_progress", "progress_percent": 40},
    )
    assert progressed.status_code == 200
    achieved = await service.client.post(
        f"/relationships/{rid}/goals/g1/progress", headers=MENTEE, json={"status": "achieved"}
    )
    assert achieved.status_code == 200
    dropped = await service.client.post(
        f"/relationships/{rid}/goals/g1/progress", headers=MENTEE, json={"status": "dropped"}
    )
    assert dropped.status_code == 409 and dropped.json()["detail"] == "goal g1 is already achieved"
    unknown = await service.client.post(
        f"/relationships/{rid}/goals/nope/progress", headers=MENTEE, json={"status": "dropped"}
    )
    assert unknown.status_code == 404

    detail = (await service.client.get(f"/relationships/{rid}", headers=MENTOR)).json()
    assert {g["goal_id"]: g["status"] for g in detail["goals"]} == {"g1": "achieved", goal_id: "in_progress"}
    assert detail["meetings"][0]["topic_tags"] == ["manuscripts", "work_life_balance"]
    assert "notes" not in detail["meetings"][0] and detail["last_meeting_on"] == "2026-03-20"
    assert await service.event_types(rid) == [
        "RelationshipStarted",
        "AgreementSigned",
        "MeetingLogged",
        "GoalSet",
        "GoalProgressed",
        "GoalProgressed",
    ]


async def test_closure_then_nothing_more_happens_but_the_survey(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)
    wrong = await service.client.post(
        f"/relationships/{rid}/closure", headers=MENTEE, json={"reason": "no_fault_mentor"}
    )
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "reason"]
    closed = await service.client.post(
        f"/relationships/{rid}/closure", headers=MENTEE, json={"reason": "no_fault_mentee", "rematch_requested": True}
    )
    assert closed.status_code == 200, closed.text

    meeting = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=MENTOR,
        json={"held_on": "2026-03-02", "duration_minutes": 30, "format": "phone"},
    )
    assert meeting.status_code == 409
    assert meeting.json()["detail"] == (
        f"relationship {rid} was closed on 2026-03-02 (no_fault_mentee): cannot log a meeting"
    )
    again = await service.client.post(
        f"/relationships/{rid}/closure", headers=DIRECTOR, json={"reason": "program_ended"}
    )
    assert again.status_code == 409

    # the closing feedback is the closure survey (the old /feedback route is gone)
    old = {"satisfaction": 2, "goals_met": False, "would_recommend": True}
    assert (await service.client.post(f"/relationships/{rid}/feedback", headers=MENTEE, json=old)).status_code in (
        404,
        405,
    )
    [closure] = (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()["open_surveys"]
    responses = f"/surveys/{closure['survey_id']}/responses"
    answer = {"satisfaction": 2, "goals": 1, "recommend": "yes", "comment": "we never clicked"}
    assert (await service.client.post(responses, headers=MENTEE, json={"answers": answer})).status_code == 201
    twice = await service.client.post(responses, headers=MENTEE, json={"answers": answer})
    assert twice.status_code == 409 and "already answered" in twice.json()["detail"]
    out_of_range = await service.client.post(responses, headers=MENTOR, json={"answers": {**answer, "satisfaction": 6}})
    assert out_of_range.status_code == 422 and out_of_range.json()["detail"][0]["loc"][-1] == "satisfaction"
    texts = await service.client.get(f"{responses}/mentee-1/texts", headers=MENTEE)
    assert texts.json() == {"comment": "we never clicked"}
    assert (await service.client.get(f"{responses}/mentee-1/texts", headers=MENTOR)).status_code == 404
    assert (await service.client.get(f"{responses}/mentee-1/texts", headers=DIRECTOR)).status_code == 403

    status = (await service.client.get(f"/relationships/{rid}", headers=DIRECTOR)).json()
    assert status["phase"] == "closed" and status["closure_reason"] == "no_fault_mentee"
    assert status["rematch_requested"] is True and status["closed_on"] == "2026-03-02"
    assert (
        await service.runtime.pool.fetchval(
            "SELECT count(*) FROM timers WHERE subject = $1 AND fired_at IS NULL AND cancelled_at IS NULL", rid
        )
        == 0
    )


async def test_unknown_relationship_is_404_and_tokens_are_required(service) -> None:
    assert (await service.client.get("/relationships/nope", headers=DIRECTOR)).status_code == 404
    assert (await service.client.get("/relationships")).status_code == 401
