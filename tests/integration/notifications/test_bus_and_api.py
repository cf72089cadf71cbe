"""On the real broker with the delivery worker running; relationship nudges and reminders; the preferences API."""

from __future__ import annotations

from datetime import date, timedelta

from shared.auth import Role
from shared.bus import topic_for
from shared.events.matching import MatchApproved
from shared.events.relationships import (
    AgreementReviewDue,
    AgreementSigned,
    MeetingLogged,
    RelationshipClosed,
    RelationshipLagging,
    RelationshipStarted,
)
from tests.helpers import consume_all, eventually, unique
from tests.integration.notifications.conftest import person
from tests.integration.service_harness import auth, envelope_of


async def test_introductions_flow_from_the_broker_to_smtp_once_despite_redelivery(live_service) -> None:
    service = live_service
    mentor, mentee = unique("mentor"), unique("mentee")
    match_id = unique("match")
    approved = envelope_of(MatchApproved(match_id=match_id, mentee_id=mentee, mentor_id=mentor, mode="admin"), match_id)
    await service.publish(person(mentor, "Prof Mira Mentor", mentor=True), person(mentee, "Tom Trainee"))

    async def contacts_known() -> bool:  # profiles and matching are separate topics: no order between them
        return (
            await service.runtime.pool.fetchval(
                "SELECT count(*) FROM contacts WHERE participant_id = ANY($1)", [mentor, mentee]
            )
            == 2
        )

    await eventually(contacts_known, timeout=40)
    await service.publish(approved, approved)

    async def both_introduced() -> bool:
        return bool(service.mailbox.to(f"{mentor}@uni.example") and service.mailbox.to(f"{mentee}@uni.example"))

    await eventually(both_introduced, timeout=40)
    marker_mentor, marker_mentee = unique("mentor"), unique("mentee")
    marker = unique("match")
    await service.publish(
        approved,
        envelope_of(
            MatchApproved(match_id=marker, mentee_id=marker_mentee, mentor_id=marker_mentor, mode="admin"), marker
        ),
    )

    async def marker_recorded() -> bool:
        return bool(
            await service.runtime.pool.fetchval(
                "SELECT count(*) FROM intents WHERE cause_id <> $1 AND recipient_id = $2",
                str(approved.id),
                marker_mentee,
            )
        )

    await eventually(marker_recorded, timeout=40)
    assert (
        len(service.mailbox.to(f"{mentor}@uni.example")) == 1 and len(service.mailbox.to(f"{mentee}@uni.example")) == 1
    )
    records = await consume_all(service.bootstrap, topic_for("notifications"), expected=2, timeout=20)
    mine = [r for r in records if mentor.encode() in r.value or mentee.encode() in r.value]
    assert len(mine) == 2 and all(b"NotificationSent" in r.value for r in mine)
    assert all(b"Prof Mira Mentor" not in r.value and b"uni.example" not in r.value for r in mine)


async def relationship(service) -> tuple[str, str, str]:
    mentor, mentee, rid = unique("mentor"), unique("mentee"), unique("rel")
    await service.consume(person(mentor, "Prof Mira Mentor", mentor=True), person(mentee, "Tom Trainee"))
    await service.consume(
        envelope_of(
            RelationshipStarted(
                relationship_id=rid,
                model="one_to_one",
                mentor_id=mentor,
                mentee_ids=[mentee],
                match_id=unique("m"),
                started_on=date(2026, 3, 2),
            ),
            rid,
        )
    )
    return mentor, mentee, rid


async def test_the_cadence_reminder_moves_with_each_meeting_and_reaches_both_parties(service) -> None:
    mentor, mentee, rid = await relationship(service)
    signed = AgreementSigned(
        relationship_id=rid,
        cadence_weeks_min=6,
        cadence_weeks_max=8,
        format="video",
        confidentiality_accepted=True,
        no_fault_termination_acknowledged=True,
        signed_by=[mentor, mentee],
        signed_on=date(2026, 3, 2),
        review_due_on=date(2027, 3, 2),
    )
    await service.consume(envelope_of(signed, rid))
    service.clock.advance(timedelta(weeks=4))
    await service.consume(
        envelope_of(
            MeetingLogged(
                relationship_id=rid, meeting_id="mt1", held_on=date(2026, 3, 30), duration_minutes=60, format="video"
            ),
            rid,
        )
    )
    service.clock.advance(timedelta(weeks=4))  # the reminder from signing (7 days before 2026-04-27) is gone
    assert await service.fire_timers() == 0
    service.clock.advance(timedelta(weeks=3))  # 2026-05-18 09:00: 7 days before 2026-05-25
    assert await service.fire_timers() == 1
    await service.deliver()
    for who in (mentor, mentee):
        [reminder] = service.mailbox.to(f"{who}@uni.example")
        assert "2026-05-25" in reminder["Subject"] and "2026-03-30" in service.mailbox.text(reminder)


async def test_lagging_and_review_nudge_both_parties_and_a_rematch_reaches_the_directors(service) -> None:
    mentor, mentee, rid = await relationship(service)
    await service.consume(
        envelope_of(
            RelationshipLagging(relationship_id=rid, last_meeting_on=None, days_since=70, cadence_weeks_max=8), rid
        ),
        envelope_of(AgreementReviewDue(relationship_id=rid, due_on=date(2027, 3, 2)), rid),
        envelope_of(
            RelationshipClosed(
                relationship_id=rid,
                reason="no_fault_mentee",
                closed_by=mentee,
                mentor_id=mentor,
                mentee_ids=[mentee],
                rematch_requested=True,
                closed_on=date(2026, 6, 1),
            ),
            rid,
        ),
    )
    await service.deliver()
    for who in (mentor, mentee):
        subjects = sorted(m["Subject"] for m in service.mailbox.to(f"{who}@uni.example"))
        assert len(subjects) == 2 and "70 days" in subjects[0] and "annual review" in subjects[1]
    for director in ("director-1@uni.example", "office@uni.example"):
        [rematch] = service.mailbox.to(director)
        assert "Tom Trainee needs another mentor" in rematch["Subject"]


async def test_preferences_are_the_participants_own_and_bad_input_names_the_field(service) -> None:
    me = auth("mentee-7", Role.mentee)
    url = "/participants/mentee-7/preferences"
    assert (await service.client.get(url, headers=me)).json() == {"channels": ["email"], "digest": False}
    assert (await service.client.put(url, json={"channels": ["email"]})).status_code == 401
    other = await service.client.put(url, json={"channels": ["email"]}, headers=auth("mentee-8", Role.mentee))
    assert other.status_code == 403
    bad = await service.client.put(url, json={"channels": ["pigeon"]}, headers=me)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "channels", 0]
    empty = await service.client.put(url, json={"channels": []}, headers=me)
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "channels"]
    ok = await service.client.put(url, json={"channels": ["webhook"], "digest": True}, headers=me)
    assert ok.status_code == 200 and ok.json() == {"channels": ["webhook"], "digest": True}
    assert (await service.client.get(url, headers=auth("admin-1", Role.admin))).json()["digest"] is True
