"""The reads the portal's pair workspace and the director's lagging list need: the cadence (next meeting due by,
lagging from), the lagging filter, the closing survey and whether the reader answered it."""

from __future__ import annotations

from tests.integration.relationships.conftest import DIRECTOR, MENTEE, MENTOR, STRANGER, days


async def test_cadence_lagging_list_and_closing_survey(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)  # every 6-8 weeks, grace 14 days
    mine = (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()
    assert mine["next_meeting_due_on"] == "2026-04-27" and mine["lagging_from"] == "2026-05-11"
    assert mine["lagging"] is False and mine["open_surveys"] == []
    assert "goals" in mine["meeting_topics"]

    service.clock.advance(days(70))
    assert await service.fire_timers() == 2  # the lagging day, and the nudge of day 63 (too late by now)
    lagging = await service.client.get("/relationships?lagging=true", headers=DIRECTOR)
    assert lagging.status_code == 200
    assert [(r["relationship_id"], r["next_meeting_due_on"]) for r in lagging.json()["items"]] == [(rid, "2026-04-27")]
    assert (await service.client.get("/relationships?lagging=false", headers=DIRECTOR)).json()["items"] == []
    assert [r["relationship_id"] for r in (await service.client.get("/relationships", headers=MENTOR)).json()["items"]]
    assert (await service.client.get("/relationships?lagging=true", headers=STRANGER)).json()["items"] == []
    bad = await service.client.get("/relationships?lagging=maybe", headers=DIRECTOR)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "lagging"]
    director_view = (await service.client.get(f"/relationships/{rid}", headers=DIRECTOR)).json()
    assert director_view["lagging"] is True and "goals" not in director_view and "lagging_from" not in director_view

    met = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=MENTOR,
        json={"held_on": str(service.clock.now().date()), "duration_minutes": 30, "format": "video"},
    )
    assert met.status_code == 201, met.text
    after = (await service.client.get(f"/relationships/{rid}", headers=MENTOR)).json()
    assert after["lagging"] is False and after["next_meeting_due_on"] == "2026-07-06"

    closed = await service.client.post(
        f"/relationships/{rid}/closure", headers=MENTEE, json={"reason": "no_fault_mentee", "rematch_requested": True}
    )
    assert closed.status_code == 200, closed.text
    shut = (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()
    assert shut["phase"] == "closed" and shut["rematch_requested"] is True
    assert shut["closure_reason"] == "no_fault_mentee"
    assert shut["next_meeting_due_on"] is None and shut["lagging_from"] is None
    [closure] = [s for s in shut["open_surveys"] if s["kind"] == "closure"]
    assert "open_survey" not in shut
    answered = await service.client.post(
        f"/surveys/{closure['survey_id']}/responses",
        headers=MENTEE,
        json={"answers": {"satisfaction": 4, "goals": 4, "recommend": "yes"}},
    )
    assert answered.status_code == 201, answered.text
    assert closure not in (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()["open_surveys"]
    assert closure in (await service.client.get(f"/relationships/{rid}", headers=MENTOR)).json()["open_surveys"]
