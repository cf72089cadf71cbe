"""Standing and erasure in notifications, from profiles' events on the real broker: a deactivated person's
commands are refused (403), an erased person's everything (410), and erasure empties every message to or
about them, sent ones too, with a receipt (``shared.standing``, ``shared.privacy``)."""

from __future__ import annotations

from shared.auth import Role
from shared.events import matching
from shared.events.profiles import ParticipantDeactivated, ParticipantErased, ParticipantReactivated
from tests.helpers import eventually, unique
from tests.integration.notifications.conftest import DIRECTOR, days, person
from tests.integration.service_harness import START, auth, envelope_of

BIOGRAPHY = "the biography only the mentor was sent"


async def test_standing_is_followed_and_erasure_leaves_a_receipt(live_service) -> None:
    service = live_service
    mentor, mentee = unique("mentor"), unique("mentee")
    me, admin = auth(mentee, Role.mentee), auth(DIRECTOR, Role.admin)
    request_id = unique("req")
    await service.publish(person(mentor, "Prof Mira Mentor", mentor=True), person(mentee, "Tom Trainee"))
    ranked = matching.RequestRanked(
        request_id=request_id, mentee_id=mentee, biography=BIOGRAPHY, motivation="why", ranked_mentor_ids=[mentor]
    )
    forwarded = matching.RequestForwarded(
        request_id=request_id, mentee_id=mentee, mentor_id=mentor, choice_rank=1, respond_by=START + days(7)
    )
    await service.publish(envelope_of(ranked, request_id), envelope_of(forwarded, request_id))

    async def sent_to_mentor() -> bool:
        return (
            await service.runtime.pool.fetchval(
                "SELECT count(*) FROM intents WHERE recipient_id = $1 AND status = 'sent'"
                " AND context->>'biography' = $2",
                mentor,
                BIOGRAPHY,
            )
            == 1
        )

    await eventually(sent_to_mentor, timeout=40)
    preferences = f"/participants/{mentee}/preferences"

    async def standing(value: str | None) -> bool:
        found = await service.runtime.pool.fetchval(
            "SELECT standing FROM participant_standing WHERE participant_id = $1", mentee
        )
        return found == value

    await service.publish(
        envelope_of(
            ParticipantDeactivated(participant_id=mentee, reason="on_leave", effective_date=START.date()), mentee
        )
    )
    await eventually(lambda: standing("deactivated"), timeout=40)
    refused = await service.client.put(preferences, headers=me, json={"channels": ["email"], "digest": True})
    assert refused.status_code == 403 and "deactivated" in refused.json()["detail"]
    assert (await service.client.get(preferences, headers=me)).status_code == 200
    assert (
        await service.runtime.pool.fetchval("SELECT count(*) FROM preferences WHERE participant_id = $1", mentee) == 0
    )

    await service.publish(
        envelope_of(ParticipantReactivated(participant_id=mentee, effective_date=START.date()), mentee)
    )
    await eventually(lambda: standing(None), timeout=40)
    assert (await service.client.put(preferences, headers=me, json={"channels": ["email"]})).status_code == 200

    before = (await service.client.get(f"/privacy/{mentee}", headers=admin)).json()
    assert before["erasure_receipt"] is None and before["readable"] > 0
    assert (await service.client.get(f"/privacy/{mentee}", headers=me)).status_code == 403  # admins only

    await service.publish(envelope_of(ParticipantErased(participant_id=mentee), mentee))
    await eventually(lambda: standing("erased"), timeout=40)
    for answer in (
        await service.client.get(preferences, headers=me),
        await service.client.put(preferences, headers=me, json={"channels": ["email"]}),
    ):
        assert answer.status_code == 410 and "was erased" in answer.json()["detail"]
    leftover = await service.runtime.pool.fetchval(
        "SELECT count(*) FROM intents WHERE context::text LIKE $1", f"%{BIOGRAPHY}%"
    )
    assert leftover == 0  # the message the mentor was sent no longer quotes the biography
    after = (await service.client.get(f"/privacy/{mentee}", headers=admin)).json()
    assert after["standing"] == "erased" and after["readable"] == 0, after
    outcomes = {p["place"]: p["outcome"] for p in after["erasure_receipt"]["places"]}
    assert outcomes["table contacts"] == "removed" and outcomes["table preferences"] == "removed"
    assert outcomes["table intents (about them)"] == "made unreadable", outcomes
