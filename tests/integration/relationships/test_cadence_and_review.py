"""Cadence watch and annual review on durable timers, with the clock moved instead of sleeping."""

from __future__ import annotations

from services.relationships.domain.survey import survey_id_for
from tests.integration.relationships.conftest import MENTEE, MENTOR, days


async def _open(service, rid: str) -> list[dict]:
    return (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()["open_surveys"]


async def _mid_points(service, rid: str) -> list[tuple[str, str]]:
    rows = await service.runtime.pool.fetch(
        "SELECT opened_on, survey_id FROM survey_view WHERE relationship_id = $1 AND kind = 'mid_point'"
        " ORDER BY opened_on",
        rid,
    )
    return [(str(r["opened_on"]), r["survey_id"]) for r in rows]


async def _open_kinds(service, rid: str) -> set[str]:
    return {s["kind"] for s in await _open(service, rid)}


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


async def test_review_falls_due_yearly_opens_the_annual_survey_and_is_done(service) -> None:
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
    assert "annual_review" not in await _open_kinds(service, rid)  # no review survey before the review

    service.clock.advance(days(365 - 6 * 56))  # 2027-03-02, a year after signing
    assert await service.fire_timers() == 1
    assert (await service.event_types(rid))[-1] == "AgreementReviewDue"
    [annual] = [s for s in await _open(service, rid) if s["kind"] == "annual_review"]
    assert annual["survey_id"] == survey_id_for("annual_review", "2027-03-02", rid)
    answers = {"satisfaction": 5, "goals": 4, "continue": "continue"}
    answered = await service.client.post(
        f"/surveys/{annual['survey_id']}/responses", headers=MENTEE, json={"answers": answers}
    )
    assert answered.status_code == 201, answered.text

    reviewed = await service.client.post(f"/relationships/{rid}/reviews", headers=MENTOR, json={"outcome": "continued"})
    assert reviewed.status_code == 200
    status = (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()
    assert status["review_due_on"] == "2028-03-01"  # 365 days on (2028 is a leap year)
    [timer] = await service.runtime.pool.fetch(
        "SELECT due_at::date AS due FROM timers WHERE timer_key = $1 AND fired_at IS NULL", f"review:{rid}"
    )
    assert str(timer["due"]) == "2028-03-01"
    assert (await service.event_types(rid))[-2:] == ["AgreementReviewDue", "AgreementReviewed"]
    assert "annual_review" not in await _open_kinds(service, rid)  # the review opened no second one
    late = await service.client.post(
        f"/relationships/{rid}/reviews",
        headers=MENTOR,
        json={"outcome": "continued", "next_review_due_on": "2029-06-01"},
    )
    assert late.status_code == 422 and late.json()["detail"][0]["loc"] == ["body", "next_review_due_on"]


async def test_a_mid_point_survey_opens_in_every_review_period(service) -> None:
    """Signed 2026-03-02, review due 2027-03-02: the first mid-point is 2026-08-31; reviewed on 2027-03-02 with the
    next review on 2028-03-01 (365 days), the next mid-point is halfway, 2027-08-31, and opens a survey of its own."""
    rid = await service.start_one_to_one()
    await service.agree(rid)
    for _ in range(6):  # meet every 8 weeks so the cadence holds
        service.clock.advance(days(56))
        await service.client.post(
            f"/relationships/{rid}/meetings",
            headers=MENTOR,
            json={"held_on": str(service.clock.now().date()), "duration_minutes": 30, "format": "video"},
        )
        await service.fire_timers()
    # the timers fire with each 8-week step: the first mid-point's (due 2026-08-31) on 2026-10-12
    assert await _mid_points(service, rid) == [("2026-10-12", survey_id_for("mid_point", "2026-03-02", rid))]
    service.clock.advance(days(365 - 6 * 56))  # 2027-03-02
    await service.fire_timers()
    reviewed = await service.client.post(f"/relationships/{rid}/reviews", headers=MENTOR, json={"outcome": "continued"})
    assert reviewed.status_code == 200, reviewed.text
    [timer] = await service.runtime.pool.fetch(
        "SELECT due_at::date AS due FROM timers WHERE timer_key = $1 AND fired_at IS NULL", f"survey-mid:{rid}"
    )
    assert str(timer["due"]) == "2027-08-31"
    for _ in range(3):
        service.clock.advance(days(56))
        await service.client.post(
            f"/relationships/{rid}/meetings",
            headers=MENTOR,
            json={"held_on": str(service.clock.now().date()), "duration_minutes": 30, "format": "video"},
        )
        await service.fire_timers()
    service.clock.advance(days(182 - 3 * 56 - 1))  # 2027-08-30: not yet
    await service.fire_timers()
    assert len(await _mid_points(service, rid)) == 1
    service.clock.advance(days(1))  # 2027-08-31
    await service.fire_timers()
    [second] = [s for s in await _open(service, rid) if s["kind"] == "mid_point"]
    assert second["opened_on"] == "2027-08-31"
    assert second["survey_id"] == survey_id_for("mid_point", "review:2027-03-02", rid)
    assert len(await _mid_points(service, rid)) == 2
    closed = await service.client.post(
        f"/relationships/{rid}/closure", headers=MENTOR, json={"reason": "objectives_achieved"}
    )
    assert closed.status_code == 200
    pending = await service.runtime.pool.fetchval(
        "SELECT count(*) FROM timers WHERE timer_key = $1 AND fired_at IS NULL AND cancelled_at IS NULL",
        f"survey-mid:{rid}",
    )
    assert pending == 0
