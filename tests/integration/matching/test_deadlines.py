"""Response deadlines on durable timers: the clock is moved, never slept on; they survive a restart."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import FrozenClock
from tests.helpers import unique
from tests.integration.matching.conftest import DIRECTOR, days, mentee_registered, mentor_registered, running
from tests.integration.service_harness import START


async def test_a_missed_deadline_passes_the_request_on_once_even_across_a_restart(fresh_dsn, broker) -> None:
    clock = FrozenClock(START)
    first, second, mentee = unique("mentor"), unique("mentor"), unique("mentee")
    async with running(fresh_dsn, broker.bootstrap, clock) as service:
        await service.feed(mentor_registered(first), mentor_registered(second), mentee_registered(mentee))
        rid = await service.submit(mentee, first, second)
        await service.approve(rid)
        clock.advance(days(7) - timedelta(seconds=1))
        assert await service.fire_timers() == 0
        assert (await service.request(rid))["mentor_id"] == first

    clock.advance(timedelta(seconds=1))
    async with running(fresh_dsn, broker.bootstrap, clock) as service:  # a new process on the same database
        # the restarted service's own wheel fires what fell due while it was down, at start-up; either way once
        await service.fire_timers()
        assert await service.fire_timers() == 0
        fired = await service.runtime.pool.fetchval(
            "SELECT count(*) FROM timers WHERE subject = $1 AND fired_at IS NOT NULL", rid
        )
        assert fired == 1
        view = await service.request(rid)
        assert view["mentor_id"] == second and view["choice_rank"] == 2
        [expired] = await service.events(rid, "RequestExpired")
        assert expired["mentor_id"] == first and expired["choice_rank"] == 1
        late = await service.answer(rid, first, True)
        assert late.status_code == 403

        clock.advance(days(7))
        assert await service.fire_timers() == 1
        assert (await service.request(rid))["status"] == "unmatched"
        assert await service.event_types(rid) == [
            "RequestRanked",
            "RequestReviewed",
            "RequestForwarded",
            "RequestExpired",
            "RequestForwarded",
            "RequestExpired",
            "RequestUnmatched",
        ]
        clock.advance(days(30))
        assert await service.fire_timers() == 0


async def test_an_answer_in_time_cancels_the_deadline_and_the_program_sets_its_length(service) -> None:
    mentor, mentee = unique("mentor"), unique("mentee")
    await service.feed(mentor_registered(mentor), mentee_registered(mentee))
    bad = await service.client.put("/programs/default/response-deadline", headers=DIRECTOR, json={"days": 0})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "days"]
    unknown = await service.client.put("/programs/other/response-deadline", headers=DIRECTOR, json={"days": 3})
    assert unknown.status_code == 404
    changed = await service.client.put("/programs/default/response-deadline", headers=DIRECTOR, json={"days": 3})
    assert changed.status_code == 200 and changed.json()["response_days"] == 3

    rid = await service.submit(mentee, mentor)
    await service.approve(rid)
    assert (await service.request(rid))["respond_by"].startswith("2026-03-05T09:00")
    service.clock.advance(days(2))
    assert (await service.answer(rid, mentor, True)).status_code == 200
    service.clock.advance(days(10))
    assert await service.fire_timers() == 0
    assert (await service.request(rid))["status"] == "matched"
