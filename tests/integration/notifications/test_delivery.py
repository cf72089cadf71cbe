"""Who is told what, once per cause, on a real SMTP server and a real webhook receiver."""

from __future__ import annotations

import json
from datetime import timedelta

from services.notifications.domain.signing import verify
from shared.auth import Role
from shared.events import matching
from shared.events.profiles import ParticipantErased
from shared.timers import pending
from tests.helpers import unique
from tests.integration.notifications.conftest import SECRET, days, person
from tests.integration.service_harness import START, auth, envelope_of


def match(mentor: str, mentee: str):
    match_id = unique("match")
    return envelope_of(
        matching.MatchApproved(match_id=match_id, mentee_id=mentee, mentor_id=mentor, mode="admin"), match_id
    )


async def pair(service) -> tuple[str, str]:
    mentor, mentee = unique("mentor"), unique("mentee")
    await service.consume(person(mentor, "Prof Mira Mentor", mentor=True), person(mentee, "Tom Trainee"))
    return mentor, mentee


async def test_a_match_introduces_mentee_and_mentor_to_each_other_once_however_often_it_arrives(service) -> None:
    mentor, mentee = await pair(service)
    approved = match(mentor, mentee)
    assert await service.consume(approved) == ["handled"]
    assert await service.deliver() == 2
    assert await service.consume(approved, approved) == ["duplicate", "duplicate"]
    assert await service.deliver() == 0

    [to_mentee] = service.mailbox.to(f"{mentee}@uni.example")
    [to_mentor] = service.mailbox.to(f"{mentor}@uni.example")
    assert "Prof Mira Mentor" in to_mentee["Subject"] and "your mentor" in to_mentee["Subject"]
    assert f"{mentor}@uni.example" in service.mailbox.text(to_mentee)
    assert "Tom Trainee" in to_mentor["Subject"] and "your mentee" in to_mentor["Subject"]
    assert "<strong>Tom Trainee</strong>" in service.mailbox.html(to_mentor)
    assert to_mentee["Message-ID"] != to_mentor["Message-ID"]
    sent = await service.published("NotificationSent")
    assert sorted(e["recipient_id"] for e in sent) == sorted([mentor, mentee])
    assert all(e["cause_event_id"] == str(approved.id) and e["template"] == "introduction" for e in sent)
    assert all(
        set(e) == {"notification_id", "cause_event_id", "recipient_id", "channel", "template", "attempts"} for e in sent
    )


async def test_the_director_reviews_and_the_mentor_gets_the_forwarded_request_with_biography(service) -> None:
    mentor, mentee = await pair(service)
    request_id = unique("req")
    respond_by = START + days(7)
    await service.consume(
        envelope_of(
            matching.RequestRanked(
                request_id=request_id,
                mentee_id=mentee,
                biography="Cardiology fellow, 2nd year.",
                motivation="Career planning toward a K award.",
                ranked_mentor_ids=[mentor],
            ),
            request_id,
        ),
        envelope_of(
            matching.RequestForwarded(
                request_id=request_id, mentee_id=mentee, mentor_id=mentor, choice_rank=1, respond_by=respond_by
            ),
            request_id,
        ),
    )
    await service.deliver()

    [review] = service.mailbox.to("director-1@uni.example")
    [office] = service.mailbox.to("office@uni.example")
    assert "Tom Trainee" in review["Subject"] and "Career planning toward a K award." in service.mailbox.text(review)
    assert "1. Prof Mira Mentor" in service.mailbox.text(review) and office["Subject"] == review["Subject"]
    [forwarded] = service.mailbox.to(f"{mentor}@uni.example")
    assert "Tom Trainee" in forwarded["Subject"] and "2026-03-09" in forwarded["Subject"]
    assert "Cardiology fellow, 2nd year." in service.mailbox.text(forwarded)
    assert service.mailbox.to(f"{mentee}@uni.example") == []


async def test_the_response_reminder_comes_two_days_before_the_deadline_unless_the_mentor_answered(service) -> None:
    mentor, mentee = await pair(service)
    slow = unique("mentor")
    await service.consume(person(slow, "Dr Slow", mentor=True))
    request_id = unique("req")
    ranked = matching.RequestRanked(
        request_id=request_id, mentee_id=mentee, biography="bio", motivation="why", ranked_mentor_ids=[mentor, slow]
    )
    first = matching.RequestForwarded(
        request_id=request_id, mentee_id=mentee, mentor_id=mentor, choice_rank=1, respond_by=START + days(7)
    )
    await service.consume(envelope_of(ranked, request_id), envelope_of(first, request_id))
    async with service.runtime.pool.acquire() as conn:
        assert [t.due_at for t in await pending(conn)] == [START + days(5)]
    await service.consume(
        envelope_of(
            matching.MentorResponded(
                request_id=request_id, mentor_id=mentor, choice_rank=1, accepted=False, reason="on sabbatical"
            ),
            request_id,
        )
    )
    second = matching.RequestForwarded(
        request_id=request_id, mentee_id=mentee, mentor_id=slow, choice_rank=2, respond_by=START + days(14)
    )
    await service.consume(envelope_of(second, request_id))
    await service.deliver()
    before = len(service.mailbox.messages)

    service.clock.advance(days(5))
    assert await service.fire_timers() == 0  # the answered mentor's reminder was cancelled
    service.clock.advance(days(7))
    assert await service.fire_timers() == 1
    await service.deliver()
    [reminder] = service.mailbox.messages[before:]
    assert reminder["To"].endswith(f"<{slow}@uni.example>") and "Reminder" in reminder["Subject"]
    assert service.mailbox.to(f"{mentor}@uni.example")[-1]["Subject"].startswith("Mentorship request")

    await service.consume(
        envelope_of(
            matching.RequestExpired(request_id=request_id, mentor_id=slow, choice_rank=2, respond_by=START + days(14)),
            request_id,
        )
    )
    await service.deliver()
    [expired] = service.mailbox.to(f"{mentee}@uni.example")
    assert "Dr Slow" in expired["Subject"] and "choice number 2" in service.mailbox.text(expired)


async def test_a_declined_request_tells_the_mentee_and_an_unmatched_one_the_directors(service) -> None:
    mentor, mentee = await pair(service)
    declined, unmatched = unique("req"), unique("req")
    for request_id in (declined, unmatched):
        await service.consume(
            envelope_of(
                matching.RequestRanked(
                    request_id=request_id, mentee_id=mentee, biography="b", motivation="m", ranked_mentor_ids=[mentor]
                ),
                request_id,
            )
        )
    await service.deliver()
    directors_before = len(service.mailbox.to("director-1@uni.example"))
    await service.consume(
        envelope_of(matching.RequestReviewed(request_id=declined, reviewer_id="director-1", approved=True), declined),
        envelope_of(
            matching.RequestReviewed(
                request_id=declined,
                reviewer_id="director-1",
                approved=False,
                decline_reason="Please ask a mentor outside your own lab.",
            ),
            declined,
        ),
        envelope_of(
            matching.RequestUnmatched(request_id=unmatched, mentee_id=mentee, tried_mentor_ids=[mentor]), unmatched
        ),
    )
    await service.deliver()
    [to_mentee] = service.mailbox.to(f"{mentee}@uni.example")
    assert "Please ask a mentor outside your own lab." in service.mailbox.text(to_mentee)
    [unmatched_mail] = service.mailbox.to("director-1@uni.example")[directors_before:]
    assert "unmatched" in unmatched_mail["Subject"] and "Prof Mira Mentor" in service.mailbox.text(unmatched_mail)


async def test_webhook_deliveries_are_signed_and_carry_the_notification_id(service) -> None:
    mentor, mentee = await pair(service)
    response = await service.client.put(
        f"/participants/{mentee}/preferences",
        headers=auth(mentee, Role.mentee),
        json={"channels": ["webhook", "email"]},
    )
    assert response.status_code == 200, response.text
    await service.consume(match(mentor, mentee))
    await service.deliver()

    [hook] = service.hooks.received
    assert verify(SECRET, hook.headers["x-mentorship-timestamp"], hook.body, hook.headers["x-mentorship-signature"])
    assert not verify(
        "another secret", hook.headers["x-mentorship-timestamp"], hook.body, hook.headers["x-mentorship-signature"]
    )
    body = json.loads(hook.body)
    assert body["recipient_id"] == mentee and body["template"] == "introduction"
    assert body["notification_id"] == hook.headers["x-mentorship-notification-id"]
    assert "Prof Mira Mentor" in body["subject"]
    assert (
        len(service.mailbox.to(f"{mentee}@uni.example")) == 1 and len(service.mailbox.to(f"{mentor}@uni.example")) == 1
    )


async def test_a_digest_bundles_the_days_messages_into_one(service) -> None:
    mentor, mentee = await pair(service)
    other = unique("mentor")
    await service.consume(person(other, "Dr Other", mentor=True))
    response = await service.client.put(
        f"/participants/{mentee}/preferences",
        headers=auth("admin-1", Role.admin),
        json={"channels": ["email"], "digest": True},
    )
    assert response.json() == {"channels": ["email"], "digest": True}
    await service.consume(match(mentor, mentee), match(other, mentee))
    await service.deliver()
    assert service.mailbox.to(f"{mentee}@uni.example") == []
    assert len(service.mailbox.to(f"{mentor}@uni.example")) == 1

    service.clock.advance(timedelta(hours=21, minutes=59))
    assert await service.fire_timers() == 0
    service.clock.advance(timedelta(minutes=1))
    assert await service.fire_timers() == 1
    await service.deliver()
    [digest] = service.mailbox.to(f"{mentee}@uni.example")
    assert "2 messages" in digest["Subject"]
    text = service.mailbox.text(digest)
    assert "meet Prof Mira Mentor" in text and "meet Dr Other" in text


async def test_an_erased_participant_receives_nothing_and_their_address_is_gone(service) -> None:
    mentor, mentee = await pair(service)
    held = match(mentor, mentee)
    await service.consume(held)
    await service.consume(envelope_of(ParticipantErased(participant_id=mentee), mentee))
    await service.deliver()
    await service.consume(match(mentor, mentee))
    await service.deliver()

    assert service.mailbox.to(f"{mentee}@uni.example") == []
    assert len(service.mailbox.to(f"{mentor}@uni.example")) == 2
    pool = service.runtime.pool
    assert await pool.fetchval("SELECT count(*) FROM contacts WHERE participant_id = $1", mentee) == 0
    dump = await pool.fetchval(
        "SELECT string_agg(t::text, ' ') FROM (SELECT participant_id, name, email FROM contacts UNION ALL"
        " SELECT participant_id, NULL, NULL FROM preferences) t"
    )
    assert f"{mentee}@uni.example" not in (dump or "")
    statuses = {r["status"] for r in await pool.fetch("SELECT status FROM intents WHERE recipient_id = $1", mentee)}
    assert statuses == {"cancelled"}


async def test_a_changed_address_is_used_from_then_on(service) -> None:
    from shared.events.profiles import FieldChange, ProfileUpdated

    mentor, mentee = await pair(service)
    change = ProfileUpdated(
        participant_id=mentee,
        changes=[
            FieldChange(field="email", old=f"{mentee}@uni.example", new=f"{mentee}@new.example"),
            FieldChange(field="name", old="Tom Trainee", new="Tom T. Trainee"),
        ],
    )
    await service.consume(envelope_of(change, mentee), match(mentor, mentee))
    await service.deliver()
    assert service.mailbox.to(f"{mentee}@uni.example") == []
    [mail] = service.mailbox.to(f"{mentee}@new.example")
    assert "Tom T. Trainee" in mail["To"]
