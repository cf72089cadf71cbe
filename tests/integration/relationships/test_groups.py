"""Groups and peer circles on real Postgres and the real broker: formed by matching (``GroupFormed``), under their
program's terms (``ProgramDefined``), meeting as a group, lagging on a moved clock, members leaving; and version-1
relationship events read as version 2."""

from __future__ import annotations

import json
from datetime import timedelta

from services.relationships.application.start_relationship import relationship_id_for
from shared.auth import Role
from shared.bus import dead_letter_topic
from shared.envelope import Envelope
from shared.events.matching import GroupFormed, ProgramDefined
from shared.events.profiles import ParticipantErased
from tests.helpers import eventually, unique
from tests.integration.relationships.conftest import DIRECTOR, STRANGER, days
from tests.integration.relationships.test_bus import read_to_end
from tests.integration.service_harness import auth, envelope_of

SIGN = {"confidentiality_accepted": True, "no_fault_termination_acknowledged": True}


def defined(program_id: str, model: str, **settings) -> Envelope:
    event = ProgramDefined(
        program_id=program_id,
        name=f"{model} program",
        model=model,
        matching_mode="admin" if model == "group" else "bulk",
        response_days=14,
        cadence_weeks_min=2,
        cadence_weeks_max=3,
        review_interval_months=6,
        defined_by="director-1",
        **settings,
    )
    return envelope_of(event, program_id, "/services/matching")


def formed(program_id: str, model: str, mentors: list[str], mentees: list[str]) -> tuple[Envelope, str]:
    match_id = unique("group")
    event = GroupFormed(
        match_id=match_id,
        program_id=program_id,
        model=model,
        mentor_ids=mentors,
        mentee_ids=mentees,
        formed_by="director-1",
    )
    return envelope_of(event, match_id, "/services/matching"), relationship_id_for(match_id)


async def started(service, relationship_id: str) -> bool:
    return (await service.client.get(f"/relationships/{relationship_id}", headers=DIRECTOR)).status_code == 200


async def test_a_formed_group_meets_under_its_programs_terms(service) -> None:
    program_id = unique("residents").lower()
    mentors, mentees = [unique("mentor"), unique("mentor")], [unique("mentee") for _ in range(3)]
    as_ = {p: auth(p, Role.mentor) for p in mentors} | {p: auth(p, Role.mentee) for p in mentees}
    group, rid = formed(program_id, "group", mentors, mentees)
    await service.publish(defined(program_id, "group", group_size_max=10), group)
    await eventually(lambda: started(service, rid), timeout=30)
    await eventually(lambda: _terms_known(service, program_id), timeout=30)

    for reader in (*mentors, *mentees):
        view = (await service.client.get(f"/relationships/{rid}", headers=as_[reader])).json()
        assert view["model"] == "group" and view["program_id"] == program_id
        assert view["mentors"] == mentors and view["members"] == mentees
    assert (await service.client.get(f"/relationships/{rid}", headers=STRANGER)).status_code == 404
    listed = (await service.client.get(f"/relationships?program_id={program_id}", headers=DIRECTOR)).json()["items"]
    assert [r["relationship_id"] for r in listed] == [rid]
    assert (await service.client.get("/relationships?program_id=elsewhere", headers=DIRECTOR)).json()["items"] == []
    mine = await service.client.get(f"/relationships?program_id={program_id}", headers=as_[mentors[1]])
    mine = mine.json()["items"]
    assert [r["relationship_id"] for r in mine] == [rid]

    terms = {"format": "video"}  # no cadence: the program's
    by_mentee = await service.client.put(f"/relationships/{rid}/agreement", headers=as_[mentees[0]], json=terms)
    assert by_mentee.status_code == 403
    proposed = await service.client.put(f"/relationships/{rid}/agreement", headers=as_[mentors[1]], json=terms)
    assert proposed.status_code == 200, proposed.text
    for signer in (*mentors, *mentees):
        signed = await service.client.post(
            f"/relationships/{rid}/agreement/signatures", headers=as_[signer], json={"revision": 1, **SIGN}
        )
        assert signed.status_code == 200, signed.text
    assert signed.json()["concluded"] and signed.json()["signed_by"] == sorted([*mentors, *mentees])
    [agreement] = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE stream_id = $1 AND event_type = 'AgreementSigned'", rid
    )
    assert agreement["signed_by"] == sorted([*mentors, *mentees])
    assert (agreement["cadence_weeks_min"], agreement["cadence_weeks_max"]) == (2, 3)  # the program's cadence
    signed_on = service.clock.now().date()
    assert agreement["review_due_on"] == str(signed_on + timedelta(days=182))  # the program's 6 months

    meeting = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=as_[mentors[0]],
        json={
            "held_on": str(signed_on),
            "duration_minutes": 90,
            "format": "in_person",
            "attendee_ids": [mentors[0], mentees[0], mentees[2]],
            "notes": "Group session: grant timelines",
        },
    )
    assert meeting.status_code == 201, meeting.text
    outsider = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=as_[mentors[0]],
        json={"held_on": str(signed_on), "duration_minutes": 30, "format": "video", "attendee_ids": ["someone-else"]},
    )
    assert outsider.status_code == 422 and outsider.json()["detail"][0]["loc"][-1] == "attendee_ids"
    [logged] = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE stream_id = $1 AND event_type = 'MeetingLogged'", rid
    )
    assert logged["attendee_ids"] == [mentors[0], mentees[0], mentees[2]] and "notes" not in json.dumps(logged)
    shown = (await service.client.get(f"/relationships/{rid}", headers=as_[mentees[2]])).json()["meetings"]
    assert [m["attendee_ids"] for m in shown] == [[mentors[0], mentees[0], mentees[2]]]
    for reader in (mentors[1], mentees[1]):
        notes = (await service.client.get(f"/relationships/{rid}/notes", headers=as_[reader])).json()
        assert [n["text"] for n in notes] == ["Group session: grant timelines"]
    assert (await service.client.get(f"/relationships/{rid}/notes", headers=DIRECTOR)).status_code == 403
    assert (await service.client.get(f"/relationships/{rid}/notes", headers=STRANGER)).status_code == 404

    goal = await service.client.post(
        f"/relationships/{rid}/goals",
        headers=as_[mentors[0]],
        json={"text": "Submit a K award", "measure": "submitted", "due_on": "2026-12-01"},
    )
    assert goal.status_code == 422 and goal.json()["detail"][0]["loc"][-1] == "mentee_id"
    goal = await service.client.post(
        f"/relationships/{rid}/goals",
        headers=as_[mentors[0]],
        json={"mentee_id": mentees[1], "text": "Submit a K award", "measure": "submitted", "due_on": "2026-12-01"},
    )
    assert goal.status_code == 201
    service.clock.advance(days(3 * 7 + 14))  # the program's 3 weeks and the grace, without a meeting
    assert await service.fire_timers() == 2  # lagging, and the nudge of day 28 (too late by now: nudge_watch.py)
    service.clock.advance(days(182 - 35))  # the review date
    assert await service.fire_timers() == 2  # the review, and the re-engagement nudge 90 days after lagging
    assert (await service.event_types(rid))[-2:] == ["RelationshipLagging", "AgreementReviewDue"]
    continued = {"outcome": "continued"}
    reviewed = await service.client.post(f"/relationships/{rid}/reviews", headers=as_[mentees[2]], json=continued)
    assert reviewed.status_code == 200
    view = (await service.client.get(f"/relationships/{rid}", headers=as_[mentees[2]])).json()
    assert view["review_due_on"] == str(service.clock.now().date() + timedelta(days=182))
    closing = await service.client.post(
        f"/relationships/{rid}/closure", headers=as_[mentees[0]], json={"reason": "objectives_achieved"}
    )
    assert closing.status_code == 403
    closing = await service.client.post(
        f"/relationships/{rid}/closure", headers=as_[mentors[1]], json={"reason": "objectives_achieved"}
    )
    assert closing.status_code == 200


async def test_a_peer_circle_lags_on_the_moved_clock_like_a_pair(service) -> None:
    program_id = unique("peers").lower()
    members = [unique("peer") for _ in range(3)]
    circle, rid = formed(program_id, "peer", [], members)
    await service.publish(defined(program_id, "peer", circle_size=3), circle)
    await eventually(lambda: started(service, rid), timeout=30)
    view = (await service.client.get(f"/relationships/{rid}", headers=auth(members[2], Role.mentee))).json()
    assert view["model"] == "peer" and view["mentor_id"] is None
    assert view["mentors"] == [] and view["members"] == members

    service.clock.advance(days(8 * 7 + 14 - 1))  # before an agreement: 8 weeks, plus the 14 days' grace
    assert await service.fire_timers() == 1  # the nudge to schedule a meeting (day 63; nudge_watch.py)
    service.clock.advance(days(1))
    assert await service.fire_timers() == 1
    assert (await service.client.get(f"/relationships/{rid}", headers=DIRECTOR)).json()["lagging"] is True
    lagging = (await service.client.get("/relationships?lagging=true", headers=DIRECTOR)).json()["items"]
    assert rid in [r["relationship_id"] for r in lagging]
    met = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=auth(members[1], Role.mentee),
        json={"held_on": str(service.clock.now().date()), "duration_minutes": 60, "format": "video"},
    )
    assert met.status_code == 201
    assert (await service.client.get(f"/relationships/{rid}", headers=DIRECTOR)).json()["lagging"] is False
    assert await service.event_types(rid) == ["RelationshipStarted", "RelationshipLagging", "MeetingLogged"]


async def test_members_leave_and_the_circle_closes_when_too_few_remain(service) -> None:
    members = [unique("peer") for _ in range(3)]
    as_ = {p: auth(p, Role.mentee) for p in members}
    body = {"model": "peer", "mentee_ids": members}
    started_ = await service.client.post("/relationships", headers=DIRECTOR, json=body)
    assert started_.status_code == 201, started_.text
    rid = started_.json()["relationship_id"]

    other = await service.client.post(f"/relationships/{rid}/members/{members[1]}/leave", headers=as_[members[0]])
    assert other.status_code == 403
    stranger = await service.client.post(f"/relationships/{rid}/members/{members[0]}/leave", headers=STRANGER)
    assert stranger.status_code == 404
    left = await service.client.post(f"/relationships/{rid}/members/{members[0]}/leave", headers=as_[members[0]])
    assert left.status_code == 200, left.text
    view = (await service.client.get(f"/relationships/{rid}", headers=as_[members[1]])).json()
    assert view["phase"] == "preparing" and view["members"] == members[1:]
    assert (await service.client.get(f"/relationships/{rid}", headers=as_[members[0]])).status_code == 404

    recorded = await service.client.post(f"/relationships/{rid}/members/{members[2]}/leave", headers=DIRECTOR)
    assert recorded.status_code == 200
    view = (await service.client.get(f"/relationships/{rid}", headers=DIRECTOR)).json()
    assert view["phase"] == "closed" and view["closure_reason"] == "participant_left"
    again = await service.client.post(f"/relationships/{rid}/members/{members[1]}/leave", headers=DIRECTOR)
    assert again.status_code == 409
    assert await service.event_types(rid) == ["RelationshipStarted", "MemberLeft", "MemberLeft", "RelationshipClosed"]
    [closed] = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE stream_id = $1 AND event_type = 'RelationshipClosed'", rid
    )
    assert closed["mentor_id"] is None and closed["mentee_ids"] == members and closed["closed_by"] == "director-1"


async def test_a_group_naming_someone_erased_is_dead_lettered(service) -> None:
    erased = unique("mentee")
    group, rid = formed("default", "group", [unique("mentor")], [erased, unique("mentee")])
    await service.publish(envelope_of(ParticipantErased(participant_id=erased), erased, "/services/profiles"))

    async def known_erased() -> bool:  # the topics are consumed independently: the erasure first, then the group
        return (
            await service.runtime.pool.fetchval(
                "SELECT count(*) FROM participant_standing WHERE participant_id = $1 AND standing = 'erased'", erased
            )
            == 1
        )

    await eventually(known_erased, timeout=30)
    await service.publish(group)

    async def dead_lettered() -> bool:
        records = await read_to_end(service.bootstrap, dead_letter_topic("relationships"))
        return any(erased.encode() in r.value for r in records)

    await eventually(dead_lettered, timeout=40)
    assert not await started(service, rid)


async def test_version_1_relationship_events_are_read_as_version_2(service) -> None:
    pair = await service.start_one_to_one()
    members = [unique("peer"), unique("peer")]
    peer = await service.client.post("/relationships", headers=DIRECTOR, json={"model": "peer", "mentee_ids": members})
    circle = peer.json()["relationship_id"]
    # As today's code (version 1) recorded them: no program, and a peer relationship's "mentor" one of the peers.
    async with service.runtime.pool.acquire() as conn:
        for rid, v1 in (
            (pair, {"model": "one_to_one", "mentor_id": "mentor-1", "mentee_ids": ["mentee-1"]}),
            (circle, {"model": "peer", "mentor_id": members[0], "mentee_ids": [members[1]]}),
        ):
            data = await conn.fetchval("SELECT data FROM events WHERE stream_id = $1 AND version = 1", rid)
            v1_data = {k: v for k, v in data.items() if k not in ("program_id", "co_mentor_ids")} | v1
            await conn.execute(
                "UPDATE events SET data = $2, schema_version = 1 WHERE stream_id = $1 AND version = 1", rid, v1_data
            )
    for rid, by in ((pair, auth("mentee-1", Role.mentee)), (circle, auth(members[0], Role.mentee))):
        met = await service.client.post(
            f"/relationships/{rid}/meetings",
            headers=by,
            json={"held_on": str(service.clock.now().date()), "duration_minutes": 30, "format": "video"},
        )
        assert met.status_code == 201, met.text  # the aggregate was rebuilt from the version-1 start
    pair_view = (await service.client.get(f"/relationships/{pair}", headers=DIRECTOR)).json()
    assert pair_view["program_id"] == "default" and pair_view["mentors"] == ["mentor-1"]
    circle_view = (await service.client.get(f"/relationships/{circle}", headers=DIRECTOR)).json()
    assert circle_view["mentors"] == [] and circle_view["members"] == members
    [logged] = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE stream_id = $1 AND event_type = 'MeetingLogged'", circle
    )
    assert logged["attendee_ids"] == members


async def _terms_known(service, program_id: str) -> bool:
    sql = "SELECT count(*) FROM program_terms WHERE program_id = $1"
    return await service.runtime.pool.fetchval(sql, program_id) == 1
