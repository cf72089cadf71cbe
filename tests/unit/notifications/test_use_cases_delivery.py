"""The delivery rule on in-memory ports: claim → render → send → record, retries with back-off, the crash
rule (one resend after the lease, then "unknown"), and what NotificationSent/Failed carry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications.adapters.timers import timer_handlers
from services.notifications.application import deliver
from services.notifications.application.deliver import deliver_due, recover_lapsed
from services.notifications.application.ports import PENDING, Candidate
from services.notifications.application.record_notices import record
from services.notifications.domain.audience import Notice, introduction
from services.notifications.domain.causes import notification_id
from shared.events.matching import MatchApproved
from tests.unit.notifications.fakes import OFFICE, Killed, World, options

pytestmark = pytest.mark.unit

CAUSE = "0b9c7a52-0000-4000-8000-0000000000aa"
LEASE = timedelta(seconds=121)


async def introduce(world: World) -> None:
    await world.person("mentor-1", "Prof Mira Mentor")
    await world.person("mentee-1", "Tom Trainee")
    approved = MatchApproved(match_id="match-1", mentee_id="mentee-1", mentor_id="mentor-1", mode="admin")
    async with world.transactions() as conn:
        await record(world.deps, conn, CAUSE, introduction(approved))


async def retry_due(world: World) -> int:
    handlers, fired = timer_handlers(world.deps), 0
    for timer in world.timers.due(world.clock.now()):
        async with world.transactions() as conn:
            await handlers[timer.kind](conn, timer)
        fired += 1
    return fired


async def test_due_intents_are_sent_once_with_a_stable_message_id_and_recorded_as_sent() -> None:
    world = World()
    await introduce(world)
    assert await deliver_due(world.delivery) == 2
    assert await deliver_due(world.delivery) == 0

    [to_mentee] = world.email.to("mentee-1")
    nid = notification_id(CAUSE, "mentee-1", "email")
    assert to_mentee.message_id == f"<{nid}@notifications.mentorship.local>"
    assert (to_mentee.name, to_mentee.email) == ("Tom Trainee", "mentee-1@uni.example")
    assert "Prof Mira Mentor" in to_mentee.subject
    assert set(world.intents.statuses().values()) == {"sent"}
    sent = world.events("NotificationSent")
    assert sorted(e.recipient_id for e in sent) == ["mentee-1", "mentor-1"]
    assert all(e.cause_event_id == CAUSE and e.attempts == 1 and e.channel == "email" for e in sent)
    assert set(world.store.streams) == {str(e.notification_id) for e in sent}  # one stream per notification


async def test_claims_come_in_batches_of_the_configured_size() -> None:
    world = World(opts=options(delivery_concurrency=1))
    await introduce(world)
    batch = await deliver.claim(world.delivery)
    assert batch is not None and len(batch[0]) == 1
    assert sorted(world.intents.statuses().values()) == ["pending", "sending"]  # claimed before anything is sent
    await deliver.finish(world.delivery, *batch)
    assert len(world.email.sent) == 1 and await deliver_due(world.delivery) == 1


async def test_a_refused_message_is_retried_after_back_off_and_then_sent() -> None:
    world = World()
    await introduce(world)
    world.email.refuse = 2
    await deliver_due(world.delivery)
    assert world.email.sent == [] and set(world.intents.statuses().values()) == {"retrying"}
    assert {t.due_at - world.clock.now() for t in await world.timers.pending(None)} == {timedelta(seconds=30)}

    world.clock.advance(seconds=29)
    assert await retry_due(world) == 0
    world.clock.advance(seconds=1)
    assert await retry_due(world) == 2
    assert await deliver_due(world.delivery) == 2
    assert sorted(e.attempts for e in world.events("NotificationSent")) == [2, 2]
    assert world.events("NotificationFailed") == []


async def test_delivery_gives_up_after_the_last_attempt_with_notification_failed() -> None:
    world = World()  # max_attempts 3
    await introduce(world)
    world.email.refuse = 6
    for wait in (0, 30, 60):
        world.clock.advance(seconds=wait)
        await retry_due(world)
        await deliver_due(world.delivery)
    world.clock.advance(days=1)
    assert await retry_due(world) == 0
    failed = world.events("NotificationFailed")
    assert sorted(e.recipient_id for e in failed) == ["mentee-1", "mentor-1"]
    assert all(e.attempts == 3 and "451" in e.error for e in failed)
    assert set(world.intents.statuses().values()) == {"failed"}


async def test_a_message_that_cannot_be_written_fails_like_a_refused_one() -> None:
    world = World()
    nid = notification_id(CAUSE, "mentee-1", "email")
    async with world.transactions() as conn:
        await world.intents.add(
            conn, CAUSE, Candidate(nid, Notice("mentee-1", "no_such_template"), "email"), PENDING, world.clock.now()
        )
    await deliver_due(world.delivery)
    assert world.email.sent == []
    assert world.intents.rows[nid].status == "retrying" and "no_such_template" in world.intents.rows[nid].last_error


async def test_a_send_interrupted_before_its_record_is_resent_once_then_its_outcome_is_unknown() -> None:
    world = World(opts=options(delivery_concurrency=1))
    await world.person("mentee-1", "Tom Trainee")
    await world.notify(
        CAUSE,
        Notice(
            "mentee-1",
            "request_expired",
            {"request_id": "r", "mentee_id": "mentee-1", "mentor_id": "mentee-1", "choice_rank": 1},
        ),
    )
    world.email.dies = True
    with pytest.raises(Killed):
        await deliver_due(world.delivery)
    assert set(world.intents.statuses().values()) == {"sending"}
    assert await recover_lapsed(world.delivery) == 0  # within its lease it may still be in flight

    world.clock.advance(seconds=LEASE.total_seconds())
    wakes = world.intents.wakes
    assert await recover_lapsed(world.delivery) == 1 and world.intents.wakes == wakes + 1
    with pytest.raises(Killed):
        await deliver_due(world.delivery)
    world.clock.advance(seconds=LEASE.total_seconds())
    world.email.dies = False
    assert await recover_lapsed(world.delivery) == 1  # found "sending" again: given up, not resent
    assert await deliver_due(world.delivery) == 0

    first, second = world.email.sent
    assert first.message_id == second.message_id
    [failed] = world.events("NotificationFailed")
    assert "outcome unknown" in failed.error and failed.attempts == 2
    assert set(world.intents.statuses().values()) == {"unknown"}
    world.clock.advance(days=1)
    assert await recover_lapsed(world.delivery) == 0


async def test_a_director_known_only_by_address_is_written_to_at_that_address() -> None:
    world = World()
    await world.notify(
        CAUSE,
        Notice(
            OFFICE,
            "request_unmatched",
            {"request_id": "req-1", "mentee_id": "mentee-1", "tried_mentor_ids": ["mentor-1"]},
        ),
    )
    await deliver_due(world.delivery)
    [message] = world.email.sent
    assert (message.name, message.email) == ("Program director", OFFICE)
    assert "a participant" in message.text  # the mentee has no contact here
