"""Cadence watch and annual review on durable timers, with the clock moved instead of sleeping."""

from __future__ import annotations

from tests.integration.relationships.conftest import MENTEE, MENTOR, days


async def test_lagging_once_per_lapse_cleared_by_the_next_meeting(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)  # every 6-8 weeks; grace 14 days → lagging 70 days after the start without a meeting
    service.clock.advance(days(69))
    assert await service.fire_timers() == 1  # the nudge to schedule a meeting (day 63; nudge_watch.py)
    service.clock.advance(days(1))
    assert await service.fire_timers() == 1
    status = (await service.client.get(f"/relationships/{rid}", headers=MENTOR)).json()
    assert status["lagging"] is True
    service.clock.advance(days(30))
    assert await service.fire_timers() == 0  # once per lapse

    met = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=MENTEE,
        json={
            "held_on": str(service.clock.now().date()),
            "duration_minutes": 45,
            "format": "phone",
            "topic_tags": ["goals"],
        },
    )
    assert met.status_code == 201
    assert (await service.client.get(f"/relationships/{rid}", headers=MENTOR)).json()["lagging"] is False
    service.clock.advance(days(69))
    assert await service.fire_timers() == 1  # the nudge (day 63)
    service.clock.advance(days(1))
    assert await service.fire_timers() == 1
    assert await service.event_types(rid) == [
        "RelationshipStarted",
        "AgreementSigned",
        "RelationshipLagging",
        "MeetingLogged",
        "RelationshipLagging",
    ]
    [lagging] = await service.runtime.pool.fetch(
        "SELECT data FROM events WHERE event_type = 'RelationshipLagging' AND version = 5"
    )
    assert lagging["data"]["days_since"] == 70 and lagging["data"]["last_meeting_on"] == "2026-06-10"


async def test_review_falls_due_yearly_opens_the_survey_and_is_done(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)
    for _ in range(1, 7):  # meet every 8 weeks so the cadence holds
        service.clock.advance(days(56))
        await service.client.post(
            f"/relationships/{rid}/meetings",
            headers=MENTOR,
            json={"held_on": str(service.clock.now().date()), "duration_minutes": 30, "format": "video"},
        )
        await service.fire_timers()
    early = await service.client.post(
        f"/relationships/{rid}/feedback",
        headers=MENTEE,
        json={"satisfaction": 5, "goals_met": True, "would_recommend": True},
    )
    assert early.status_code == 409 and "no survey is open" in early.json()["detail"]

    service.clock.advance(days(365 - 6 * 56))  # 2027-03-02, a year after signing
    assert await service.fire_timers() == 1
    assert (await service.event_types(rid))[-1] == "AgreementReviewDue"
    answered = await service.client.post(
        f"/relationships/{rid}/feedback",
        headers=MENTEE,
        json={"satisfaction": 5, "goals_met": True, "would_recommend": True},
    )
    assert answered.json() == {"survey": "review:2027-03-02"}

    reviewed = await service.client.post(f"/relationships/{rid}/reviews", headers=MENTOR, json={"outcome": "continued"})
    assert reviewed.status_code == 200
    status = (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()
    assert status["review_due_on"] == "2028-03-01"  # 365 days on (2028 is a leap year)
    [timer] = await service.runtime.pool.fetch(
        "SELECT due_at::date AS due FROM timers WHERE timer_key = $1 AND fired_at IS NULL", f"review:{rid}"
    )
    assert str(timer["due"]) == "2028-03-01"
    assert (await service.event_types(rid))[-3:] == ["AgreementReviewDue", "FeedbackSubmitted", "AgreementReviewed"]
    late = await service.client.post(
        f"/relationships/{rid}/reviews",
        headers=MENTOR,
        json={"outcome": "continued", "next_review_due_on": "2029-06-01"},
    )
    assert late.status_code == 422 and late.json()["detail"][0]["loc"] == ["body", "next_review_due_on"]
