"""Nudges on a moved clock: schedule the next meeting before the pair would lag (once per period, not when one is
scheduled in time), re-engage after the inactivity period, then the director's notice; the director may close."""

from __future__ import annotations

from datetime import timedelta

from shared.timers import pending
from tests.integration.relationships.conftest import DIRECTOR, MENTEE, MENTOR, days
from tests.integration.service_harness import START

# One-to-one, agreed every 6-8 weeks, grace 14 days: lagging on day 70 (2026-05-11) without a meeting; the nudge
# comes 7 days before (day 63, 2026-05-04), the re-engagement 90 days after lagging, the director's notice 30 later.


async def nudge_events(service, rid: str) -> list[str]:
    return await service.event_types(f"nudges:{rid}")


async def test_nudged_once_per_period_when_nothing_is_scheduled(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)
    service.clock.advance(days(62))
    assert await service.fire_timers() == 0
    service.clock.advance(days(1))
    assert await service.fire_timers() == 1
    assert await nudge_events(service, rid) == ["MeetingNudgeDue"]
    [nudge] = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE stream_id = $1", f"nudges:{rid}"
    )
    assert nudge == {
        "relationship_id": rid,
        "next_meeting_due_on": "2026-04-27",
        "lagging_on": "2026-05-11",
        "cadence_weeks_max": 8,
    }
    service.clock.advance(days(7))
    assert await service.fire_timers() == 1  # the lagging day: the cadence watch's own timer
    assert await nudge_events(service, rid) == ["MeetingNudgeDue"]  # once per period

    met = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=MENTOR,
        json={"held_on": str(service.clock.now().date()), "duration_minutes": 30, "format": "video"},
    )
    assert met.status_code == 201
    service.clock.advance(days(63))  # the next period's nudge
    assert await service.fire_timers() == 1
    assert await nudge_events(service, rid) == ["MeetingNudgeDue", "MeetingNudgeDue"]


async def test_no_nudge_when_a_meeting_is_scheduled_before_the_pair_would_lag(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)
    service.clock.advance(days(55))
    proposed = await service.client.post(
        f"/relationships/{rid}/meetings/proposals",
        headers=MENTEE,
        json={"candidates": [(START + days(66)).isoformat()], "duration_minutes": 60},
    )
    mid = proposed.json()["meeting_id"]
    accepted = await service.client.post(
        f"/relationships/{rid}/meetings/{mid}/acceptance",
        headers=MENTOR,
        json={"starts_at": (START + days(66)).isoformat()},
    )
    assert accepted.status_code == 200, accepted.text
    service.clock.advance(days(8))  # day 63
    assert await service.fire_timers() == 1  # the nudge timer fired, and decided nothing was due
    assert await nudge_events(service, rid) == []


async def test_inactive_pair_is_asked_to_reengage_then_the_director_is_told_and_closes_it(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)
    service.clock.advance(days(70))
    await service.fire_timers()  # the nudge (day 63) fires on day 70, too late to nudge: the pair lags
    assert (await service.client.get(f"/relationships/{rid}", headers=MENTOR)).json()["lagging"] is True
    service.clock.advance(days(89))
    assert await service.fire_timers() == 0
    service.clock.advance(days(1))  # lagging for 90 days
    assert await service.fire_timers() == 1
    assert await nudge_events(service, rid) == ["ReengagementNudged"]
    service.clock.advance(days(29))
    assert await service.fire_timers() == 1  # only the mid-point survey's timer (day 182; issue 18 surveys)
    service.clock.advance(days(1))
    assert await service.fire_timers() == 1
    assert await nudge_events(service, rid) == ["ReengagementNudged", "RelationshipInactive"]
    [inactive] = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE stream_id = $1 AND event_type = 'RelationshipInactive'",
        f"nudges:{rid}",
    )
    assert inactive == {
        "relationship_id": rid,
        "lagging_since": "2026-05-11",
        "last_meeting_on": None,
        "mentor_id": "mentor-1",
        "co_mentor_ids": [],
        "mentee_ids": ["mentee-1"],
    }
    service.clock.advance(days(365))
    await service.fire_timers()  # (the annual review falls due meanwhile)
    assert await nudge_events(service, rid) == ["ReengagementNudged", "RelationshipInactive"]  # once per lapse
    closed = await service.client.post(
        f"/relationships/{rid}/closure", headers=DIRECTOR, json={"reason": "program_ended"}
    )
    assert closed.status_code == 200
    async with service.runtime.pool.acquire() as conn:
        assert await pending(conn, rid) == []


async def test_a_meeting_ends_the_lapse_and_its_inactivity_countdown(service) -> None:
    rid = await service.start_one_to_one()
    await service.agree(rid)
    service.clock.advance(days(80))
    await service.fire_timers()
    met = await service.client.post(
        f"/relationships/{rid}/meetings",
        headers=MENTEE,
        json={"held_on": str(service.clock.now().date()), "duration_minutes": 30, "format": "phone"},
    )
    assert met.status_code == 201
    async with service.runtime.pool.acquire() as conn:
        kinds = sorted(t.kind for t in await pending(conn, rid))
    assert "relationship-inactivity" not in kinds and "relationship-nudge" in kinds
    service.clock.advance(timedelta(days=90))
    await service.fire_timers()
    assert "ReengagementNudged" not in await nudge_events(service, rid)
