"""Relationships on the real broker: matches start them, departures close them, confidential text never travels."""

from __future__ import annotations

import uuid
from datetime import date

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.relationships.application.start_relationship import relationship_id_for
from shared.auth import Role
from shared.bus import dead_letter_topic, topic_for
from shared.envelope import Envelope
from shared.events.matching import MatchApproved
from shared.events.profiles import ParticipantDeactivated
from tests.helpers import eventually, unique
from tests.integration.relationships.conftest import DIRECTOR
from tests.integration.service_harness import auth, envelope_of


def match(mentor: str, mentee: str) -> Envelope:
    match_id = unique("match")
    event = MatchApproved(match_id=match_id, mentee_id=mentee, mentor_id=mentor, mode="admin", approved_by="director-1")
    return envelope_of(event, match_id, "/services/matching")


def departure(participant: str, reason: str = "left_institution") -> Envelope:
    event = ParticipantDeactivated(participant_id=participant, reason=reason, effective_date=date(2026, 3, 2))
    return envelope_of(event, participant, "/services/profiles")


async def read_to_end(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    """Every record the topic holds right now, from the beginning."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    await consumer._client.force_metadata_update()
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]


async def test_a_match_starts_one_relationship_however_often_it_arrives(service) -> None:
    mentor, mentee = unique("mentor"), unique("mentee")
    approved = match(mentor, mentee)
    same_match_other_envelope = approved.model_copy(update={"id": uuid.uuid4()})
    await service.publish(approved, approved, same_match_other_envelope)
    rid = relationship_id_for(approved.data["match_id"])

    async def started() -> bool:
        response = await service.client.get(f"/relationships/{rid}", headers=auth(mentee, Role.mentee))
        return response.status_code == 200

    await eventually(started, timeout=30)
    await eventually(lambda: _inbox_has(service, 2), timeout=30)
    assert await service.event_types(rid) == ["RelationshipStarted"]
    status = (await service.client.get(f"/relationships/{rid}", headers=auth(mentor, Role.mentor))).json()
    assert status["phase"] == "preparing" and status["mentee_ids"] == [mentee] and status["model"] == "one_to_one"
    [started_event] = await service.runtime.pool.fetch("SELECT causation_id FROM events WHERE stream_id = $1", rid)
    assert started_event["causation_id"] == approved.id


async def test_leaving_the_institution_closes_that_persons_active_relationships(service) -> None:
    mentor, mentee, other = unique("mentor"), unique("mentee"), unique("mentee")
    approved = match(mentor, mentee)
    group = await service.client.post(
        "/relationships",
        headers=DIRECTOR,
        json={"model": "group", "mentor_id": mentor, "mentee_ids": [other, unique("mentee")]},
    )
    unrelated = await service.client.post(
        "/relationships",
        headers=DIRECTOR,
        json={"model": "one_to_one", "mentor_id": unique("mentor"), "mentee_ids": [other]},
    )
    await service.publish(approved)
    rid = relationship_id_for(approved.data["match_id"])
    await eventually(lambda: _phase_is(service, rid, "preparing"), timeout=30)

    await service.publish(departure(mentor, "on_leave"), departure(mentor))
    await eventually(lambda: _phase_is(service, rid, "closed"), timeout=30)

    for closed_id in (rid, group.json()["relationship_id"]):
        status = (await service.client.get(f"/relationships/{closed_id}", headers=DIRECTOR)).json()
        assert status["closure_reason"] == "participant_left" and status["rematch_requested"] is True
    assert await _phase_is(service, unrelated.json()["relationship_id"], "preparing")
    [closed] = await service.runtime.pool.fetch(
        "SELECT data FROM events WHERE stream_id = $1 AND event_type = 'RelationshipClosed'", rid
    )
    assert closed["data"]["mentor_id"] == mentor and closed["data"]["mentee_ids"] == [mentee]
    assert closed["data"]["closed_by"] is None


async def test_no_note_or_comment_text_on_any_topic_the_scenario_touches(service) -> None:
    mentor, mentee = unique("mentor"), unique("mentee")
    as_mentor, as_mentee = auth(mentor, Role.mentor), auth(mentee, Role.mentee)
    note, comment = f"NOTE-{uuid.uuid4().hex}", f"COMMENT-{uuid.uuid4().hex}"
    approved = match(mentor, mentee)
    await service.publish(approved)
    rid = relationship_id_for(approved.data["match_id"])
    await eventually(lambda: _phase_is(service, rid, "preparing"), timeout=30)

    proposed = await service.client.put(f"/relationships/{rid}/agreement", headers=as_mentee, json={"format": "video"})
    for who in (as_mentor, as_mentee):
        await service.client.post(
            f"/relationships/{rid}/agreement/signatures",
            headers=who,
            json={
                "revision": proposed.json()["revision"],
                "confidentiality_accepted": True,
                "no_fault_termination_acknowledged": True,
            },
        )
    for who in (as_mentor, as_mentee):
        logged = await service.client.post(
            f"/relationships/{rid}/meetings",
            headers=who,
            json={
                "held_on": "2026-03-02",
                "duration_minutes": 60,
                "format": "in_person",
                "topic_tags": ["funding"],
                "notes": f"{note} said by {who['Authorization'][-6:]}",
            },
        )
        assert logged.status_code == 201
    closed = await service.client.post(
        f"/relationships/{rid}/closure", headers=as_mentee, json={"reason": "objectives_achieved"}
    )
    assert closed.status_code == 200
    shown = (await service.client.get(f"/relationships/{rid}", headers=as_mentee)).json()
    [closure] = [s for s in shown["open_surveys"] if s["kind"] == "closure"]
    for who in (as_mentor, as_mentee):  # the closing survey, with a comment (a text answer, sealed)
        answered = await service.client.post(
            f"/surveys/{closure['survey_id']}/responses",
            headers=who,
            json={"answers": {"satisfaction": 4, "goals": 5, "recommend": "yes", "comment": comment}},
        )
        assert answered.status_code == 201, answered.text
    await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=as_mentor,
        json={"held_on": "2026-03-02", "duration_minutes": 60, "format": "video", "notes": note},
    )  # refused: closed

    await eventually(lambda: _outbox_empty(service), timeout=30)
    published = await read_to_end(service.bootstrap, topic_for("relationships"))
    ours = [Envelope.from_bytes(r.value) for r in published if r.key == rid.encode()]
    assert [e.type for e in ours] == [
        "RelationshipStarted",
        "AgreementSigned",
        "MeetingLogged",
        "MeetingLogged",
        "RelationshipClosed",
    ]
    survey = [Envelope.from_bytes(r.value).type for r in published if r.key == closure["survey_id"].encode()]
    assert survey == ["SurveyOpened", "SurveyAnswered", "SurveyAnswered"]
    assert ours[0].causationid == approved.id
    for topic in (
        topic_for("relationships"),
        topic_for("matching"),
        topic_for("profiles"),
        dead_letter_topic("relationships"),
    ):
        for record in await read_to_end(service.bootstrap, topic):
            text = record.value + b"".join(v for _, v in record.headers) + (record.key or b"")
            assert note.encode() not in text and comment.encode() not in text, f"confidential text on {topic}"
    stored = await service.runtime.pool.fetchval(
        "SELECT count(*) FROM events WHERE data::text LIKE $1 OR data::text LIKE $2", f"%{note}%", f"%{comment}%"
    )
    assert stored == 0
    notes = (await service.client.get(f"/relationships/{rid}/notes", headers=as_mentee)).json()
    assert len(notes) == 2 and all(n["text"].startswith(note) for n in notes)


async def _inbox_has(service, count: int) -> bool:
    return await service.runtime.pool.fetchval("SELECT count(*) FROM inbox") >= count


async def _phase_is(service, relationship_id: str, phase: str) -> bool:
    response = await service.client.get(f"/relationships/{relationship_id}", headers=DIRECTOR)
    return response.status_code == 200 and response.json()["phase"] == phase


async def _outbox_empty(service) -> bool:
    return await service.runtime.pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_an_erased_participants_notes_are_deleted_and_the_others_kept(service) -> None:
    from shared.events.profiles import ParticipantErased

    rid = await service.start_one_to_one()
    await service.agree(rid)
    view = (await service.client.get(f"/relationships/{rid}", headers=DIRECTOR)).json()
    mentor, [mentee] = view["mentor_id"], view["mentee_ids"]
    for who, role in ((mentor, Role.mentor), (mentee, Role.mentee)):
        logged = await service.client.post(
            f"/relationships/{rid}/meetings",
            headers=auth(who, role),
            json={
                "held_on": view["started_on"],
                "duration_minutes": 30,
                "format": "video",
                "notes": f"written by {who}",
            },
        )
        assert logged.status_code == 201, logged.text

    erased = envelope_of(ParticipantErased(participant_id=mentee), mentee, "/services/profiles")
    await service.publish(erased)

    async def only_the_mentors_note_left() -> bool:
        return await service.runtime.pool.fetchval("SELECT count(*) FROM confidential_texts") == 1

    await eventually(only_the_mentors_note_left, timeout=30)
    notes = (await service.client.get(f"/relationships/{rid}/notes", headers=auth(mentor, Role.mentor))).json()
    assert [n["author_id"] for n in notes] == [mentor]
