"""Surveys throughout (issue 18) on real Postgres and the real broker: each kind opens at its moment (the clock
moved for mid-point and annual review), each respondent answers once, bad answers are 422 naming the question,
text answers never travel and only their respondent reads them."""

from __future__ import annotations

from datetime import date

from services.relationships.domain.survey import survey_id_for
from shared.auth import Role
from shared.bus import topic_for
from shared.envelope import Envelope
from shared.events.matching import ProgramDefined
from shared.events.profiles import MentorTrainingCompleted
from tests.helpers import eventually, unique
from tests.integration.relationships.conftest import DIRECTOR, MENTEE, MENTOR, days
from tests.integration.relationships.test_bus import read_to_end
from tests.integration.service_harness import auth, envelope_of

SECRET = "my mentor never listens - confidential 7c1f"


async def _open(service, who: dict, rid: str) -> list[dict]:
    shown = await service.client.get(f"/relationships/{rid}", headers=who)
    assert shown.status_code == 200, shown.text
    return shown.json()["open_surveys"]


async def _meet(service, rid: str, who: dict = MENTOR) -> str:
    met = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=who,
        json={"held_on": str(service.clock.now().date()), "duration_minutes": 30, "format": "video"},
    )
    assert met.status_code == 201, met.text
    return met.json()["meeting_id"]


async def _answer(service, who: dict, survey_id: str, answers: dict):
    return await service.client.post(f"/surveys/{survey_id}/responses", headers=who, json={"answers": answers})


async def test_a_pulse_opens_after_each_meeting_and_is_answered_once(service) -> None:
    rid = await service.start_one_to_one()
    assert await _open(service, MENTEE, rid) == []
    meeting = await _meet(service, rid)
    [pulse] = await _open(service, MENTEE, rid)
    assert pulse["kind"] == "pulse" and pulse["survey_id"] == survey_id_for("pulse", meeting, rid)
    assert [q["id"] for q in pulse["questions"]] == ["useful", "next", "comment"]
    assert pulse["expires_on"] == "2026-04-01"  # 30 days (the default setting)
    assert [s["survey_id"] for s in await _open(service, MENTOR, rid)] == [pulse["survey_id"]]

    answered = await _answer(service, MENTEE, pulse["survey_id"], {"useful": 4, "next": "yes", "comment": SECRET})
    assert answered.status_code == 201, answered.text
    again = await _answer(service, MENTEE, pulse["survey_id"], {"useful": 5, "next": "yes"})
    assert again.status_code == 409 and "already answered" in again.json()["detail"]
    assert await _open(service, MENTEE, rid) == []
    assert len(await _open(service, MENTOR, rid)) == 1  # the mentor has not answered yet

    second = await _meet(service, rid, MENTEE)
    assert [s["survey_id"] for s in await _open(service, MENTEE, rid)] == [survey_id_for("pulse", second, rid)]


async def test_bad_answers_are_422_naming_the_question(service) -> None:
    rid = await service.start_one_to_one()
    await _meet(service, rid)
    [pulse] = await _open(service, MENTOR, rid)
    sid = pulse["survey_id"]
    cases = [
        ({"next": "yes"}, "useful"),  # required, missing
        ({"useful": 6, "next": "yes"}, "useful"),  # out of range
        ({"useful": 0, "next": "yes"}, "useful"),
        ({"useful": 3, "next": "maybe"}, "next"),  # not an option
        ({"useful": 3, "next": "yes", "comment": "x" * 4001}, "comment"),  # too long
        ({"useful": 3, "next": "yes", "mood": 5}, "mood"),  # no such question
    ]
    for answers, question in cases:
        refused = await _answer(service, MENTOR, sid, answers)
        assert refused.status_code == 422, (answers, refused.text)
        assert question in refused.json()["detail"][0]["loc"], (answers, refused.json())
    assert (await _answer(service, MENTOR, sid, {"useful": 3, "next": "no"})).status_code == 201
    stranger = auth("mentee-9", Role.mentee)
    assert (await _answer(service, stranger, sid, {"useful": 3, "next": "no"})).status_code == 404


async def test_the_text_answer_never_travels_and_only_its_respondent_reads_it(service) -> None:
    rid = await service.start_one_to_one()
    await _meet(service, rid)
    [pulse] = await _open(service, MENTEE, rid)
    sid = pulse["survey_id"]
    answered = await _answer(service, MENTEE, sid, {"useful": 2, "next": "not_sure", "comment": SECRET})
    assert answered.status_code == 201

    own = await service.client.get(f"/surveys/{sid}/responses/mentee-1/texts", headers=MENTEE)
    assert own.status_code == 200 and own.json() == {"comment": SECRET}
    other = await service.client.get(f"/surveys/{sid}/responses/mentee-1/texts", headers=MENTOR)
    assert other.status_code == 404
    director = await service.client.get(f"/surveys/{sid}/responses/mentee-1/texts", headers=DIRECTOR)
    assert director.status_code == 403

    stored = await service.runtime.pool.fetchval(
        # compared as bytes: a ciphertext is not text (a zero byte in it made convert_from fail now and then)
        "SELECT count(*) FROM survey_texts WHERE position($1::bytea IN ciphertext) > 0",
        SECRET[:20].encode(),
    )
    assert stored == 0  # sealed
    assert await service.runtime.pool.fetchval("SELECT count(*) FROM survey_texts") == 1

    async def relayed() -> bool:
        return await service.runtime.pool.fetchval("SELECT count(*) FROM outbox") == 0

    await eventually(relayed, timeout=30)
    records = await read_to_end(service.bootstrap, topic_for("relationships"))
    ours = [Envelope.from_bytes(r.value) for r in records if r.key == sid.encode()]
    assert [e.type for e in ours] == ["SurveyOpened", "SurveyAnswered"]
    assert ours[1].data["scores"] == {"useful": 2} and ours[1].data["choices"] == {"next": "not_sure"}
    assert ours[1].data["respondent_role"] == "mentee"
    for record in records:
        assert SECRET.encode() not in record.value, "a text answer on the bus"
    in_events = await service.runtime.pool.fetchval(
        "SELECT count(*) FROM events WHERE data::text LIKE $1", f"%{SECRET[:20]}%"
    )
    assert in_events == 0


async def test_mid_point_and_annual_review_open_on_the_moved_clock(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)  # signed 2026-03-02, review due 2027-03-02: the mid-point is 2026-08-31 (182 days)
    for _ in range(3):  # meet every 8 weeks so no lagging interferes; answer nothing
        service.clock.advance(days(56))
        await _meet(service, rid)
    service.clock.advance(days(182 - 3 * 56 - 1))  # 2026-08-30
    await service.fire_timers()
    assert "mid_point" not in {s["kind"] for s in await _open(service, MENTEE, rid)}
    service.clock.advance(days(1))
    await service.fire_timers()
    [mid] = [s for s in await _open(service, MENTEE, rid) if s["kind"] == "mid_point"]
    assert mid["opened_on"] == "2026-08-31"
    assert (
        await _answer(service, MENTEE, mid["survey_id"], {"satisfaction": 4, "progress": 3, "on_track": "partly"})
    ).status_code == 201
    await service.fire_timers()  # the timer fired once: nothing opens again
    assert "mid_point" not in {s["kind"] for s in await _open(service, MENTEE, rid)}

    service.clock.advance(days(365 - 182))  # 2027-03-02: the review falls due
    await service.fire_timers()
    annual = [s for s in await _open(service, MENTOR, rid) if s["kind"] == "annual_review"]
    assert len(annual) == 1 and annual[0]["survey_id"] == survey_id_for("annual_review", "2027-03-02", rid)
    mid_rows = await service.runtime.pool.fetchval("SELECT count(*) FROM survey_view WHERE kind = 'mid_point'")
    assert mid_rows == 1


async def test_closure_opens_the_closure_survey_and_a_survey_expires(service) -> None:
    rid = await service.start_one_to_one()
    closed = await service.client.post(
        f"/relationships/{rid}/closure",
        headers=MENTOR,
        json={"reason": "objectives_achieved", "rematch_requested": False},
    )
    assert closed.status_code == 200, closed.text
    [closure] = await _open(service, MENTEE, rid)
    assert closure["kind"] == "closure"
    service.clock.advance(days(31))  # past the 30 days
    assert await _open(service, MENTEE, rid) == []
    late = await _answer(service, MENTEE, closure["survey_id"], {"satisfaction": 5, "goals": 5, "recommend": "yes"})
    assert late.status_code == 409 and "expired" in late.json()["detail"]


async def test_end_of_training_opens_for_the_mentor_once(service) -> None:
    mentor = unique("mentor")
    await service.feed(MentorTrainingCompleted(participant_id=mentor, kind="workshop", completed_on=date(2026, 3, 1)))
    await service.feed(MentorTrainingCompleted(participant_id=mentor, kind="handbook", completed_on=date(2026, 3, 2)))
    who = auth(mentor, Role.mentor)
    listed = (await service.client.get("/surveys", headers=who)).json()["items"]
    assert [(s["kind"], s["relationship_id"]) for s in listed] == [("end_of_training", None)]
    answered = await _answer(service, who, listed[0]["survey_id"], {"prepared": 4, "quality": 5, "format": "workshop"})
    assert answered.status_code == 201, answered.text
    assert (await service.client.get("/surveys", headers=who)).json()["items"] == []


async def test_a_program_runs_only_its_kinds_with_its_own_templates(service) -> None:
    program = unique("prog")
    defined = ProgramDefined(
        program_id=program,
        name="Faculty mentoring",
        model="one_to_one",
        matching_mode="director_review",
        response_days=7,
        cadence_weeks_min=6,
        cadence_weeks_max=8,
        review_interval_months=12,
        surveys=["closure"],
        defined_by="director-1",
    )
    await service.publish(envelope_of(defined, program, "/services/matching"))

    async def known() -> bool:
        return bool(await service.runtime.pool.fetchval("SELECT 1 FROM program_terms WHERE program_id = $1", program))

    await eventually(known, timeout=40)
    default = await service.client.get(f"/programs/{program}/surveys/closure", headers=MENTEE)
    assert default.status_code == 200 and default.json()["default"] is True
    body = {
        "questions": [
            {"id": "overall", "text": "Overall?", "type": "scale"},
            {"id": "again", "text": "Again?", "type": "choice", "options": ["yes", "no"]},
        ]
    }
    assert (
        await service.client.put(f"/programs/{program}/surveys/closure", headers=MENTOR, json=body)
    ).status_code == 403
    put = await service.client.put(f"/programs/{program}/surveys/closure", headers=DIRECTOR, json=body)
    assert put.status_code == 200 and put.json()["default"] is False
    too_long_pulse = {"questions": [{"id": f"q{n}", "text": "?", "type": "scale"} for n in range(4)]}
    refused = await service.client.put(f"/programs/{program}/surveys/pulse", headers=DIRECTOR, json=too_long_pulse)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "questions"]

    started = await service.client.post(
        "/relationships",
        json={"model": "one_to_one", "program_id": program, "mentor_id": "mentor-1", "mentee_ids": ["mentee-1"]},
        headers=DIRECTOR,
    )
    rid = started.json()["relationship_id"]
    await _meet(service, rid)
    assert await _open(service, MENTEE, rid) == []  # no pulse in this program
    await service.client.post(
        f"/relationships/{rid}/closure",
        headers=MENTOR,
        json={"reason": "objectives_achieved", "rematch_requested": False},
    )
    [closure] = await _open(service, MENTEE, rid)
    assert [q["id"] for q in closure["questions"]] == ["overall", "again"]
    assert (await _answer(service, MENTEE, closure["survey_id"], {"overall": 5, "again": "yes"})).status_code == 201
