"""Failures retry with back-off on durable timers; a crash between acceptance and record resends at most once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.notifications.adapters.channels import EmailChannel
from services.notifications.adapters.templates import Templates
from services.notifications.adapters.worker import DeliveryWorker
from services.notifications.domain.outgoing import Outgoing
from shared.events.matching import MatchApproved, RequestRanked, RequestReviewed
from tests.helpers import unique
from tests.integration.notifications.conftest import person
from tests.integration.service_harness import envelope_of

LEASE = timedelta(seconds=121)


class Killed(BaseException):
    """Stands in for the process dying: nothing after the send runs."""


class DiesAfterSending:
    def __init__(self, channel: EmailChannel) -> None:
        self.channel = channel

    async def send(self, message: Outgoing) -> None:
        await self.channel.send(message)
        raise Killed


async def introduce(service) -> tuple[str, str]:
    mentor, mentee = unique("mentor"), unique("mentee")
    await service.consume(person(mentor, "Prof Mira Mentor", mentor=True), person(mentee, "Tom Trainee"))
    match_id = unique("match")
    await service.consume(
        envelope_of(MatchApproved(match_id=match_id, mentee_id=mentee, mentor_id=mentor, mode="admin"), match_id)
    )
    return mentor, mentee


def worker(service, *, dies: bool) -> DeliveryWorker:
    """A fresh worker, as a restarted process would build it, on the same database."""
    deps = service.runtime.worker.deps
    one_at_a_time = replace(deps, options=deps.options.model_copy(update={"delivery_concurrency": 1}))
    email = EmailChannel(deps.options)
    return DeliveryWorker.on_pool(
        service.runtime.pool, one_at_a_time, {"email": DiesAfterSending(email) if dies else email}, Templates()
    )


async def test_a_refused_message_is_retried_after_back_off_and_sent_once(service) -> None:
    await introduce(service)
    service.mailbox.refuse = 2
    await service.deliver()
    assert service.mailbox.messages == []
    assert set((await service.statuses()).values()) == {"retrying"}

    service.clock.advance(timedelta(seconds=29))
    assert await service.fire_timers() == 0
    service.clock.advance(timedelta(seconds=1))
    assert await service.fire_timers() == 2
    await service.deliver()
    assert len(service.mailbox.messages) == 2
    sent = await service.published("NotificationSent")
    assert sorted(e["attempts"] for e in sent) == [2, 2]
    assert await service.published("NotificationFailed") == []


async def test_delivery_gives_up_after_the_last_attempt_with_notification_failed(service) -> None:
    mentor, mentee = await introduce(service)
    service.mailbox.refuse = 6  # max_attempts is 3 for two recipients
    for wait in (0, 30, 60):
        service.clock.advance(timedelta(seconds=wait))
        await service.fire_timers()
        await service.deliver()
    service.clock.advance(timedelta(days=1))
    assert await service.fire_timers() == 0
    assert service.mailbox.messages == []
    failed = await service.published("NotificationFailed")
    assert sorted(e["recipient_id"] for e in failed) == sorted([mentor, mentee])
    assert all(e["attempts"] == 3 and "451" in e["error"] for e in failed)
    assert set((await service.statuses()).values()) == {"failed"}


def copies_per_message_id(service) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in service.mailbox.messages:
        counts[message["Message-ID"]] = counts.get(message["Message-ID"], 0) + 1
    return counts


async def test_a_send_interrupted_before_its_record_is_resent_once_with_the_same_message_id(service) -> None:
    await introduce(service)
    with pytest.raises(Killed):
        await worker(service, dies=True).deliver_due()
    [interrupted] = service.mailbox.messages
    assert sorted((await service.statuses()).values()) == ["pending", "sending"]

    restarted = worker(service, dies=False)
    assert await restarted.recover_lapsed() == 0  # a claim within its lease may still be in flight elsewhere
    assert await restarted.deliver_due() == 1  # only the message that was never handed over
    service.clock.advance(LEASE)
    assert await restarted.recover_lapsed() == 1
    assert await restarted.deliver_due() == 1

    assert sorted(copies_per_message_id(service).values()) == [1, 2]
    assert copies_per_message_id(service)[interrupted["Message-ID"]] == 2
    assert set((await service.statuses()).values()) == {"sent"}
    assert len(await service.published("NotificationSent")) == 2
    service.clock.advance(LEASE * 10)
    assert await restarted.recover_lapsed() == 0 and await restarted.deliver_due() == 0


async def decline(service) -> None:
    """Leaves exactly one intent to deliver: the mentee's decline notice."""
    mentee, request_id = unique("mentee"), unique("req")
    await service.consume(
        person(mentee, "Tom Trainee"),
        envelope_of(
            RequestRanked(
                request_id=request_id, mentee_id=mentee, biography="b", motivation="m", ranked_mentor_ids=["m-1"]
            ),
            request_id,
        ),
    )
    await service.deliver()
    service.mailbox.messages.clear()
    await service.consume(
        envelope_of(
            RequestReviewed(
                request_id=request_id, reviewer_id="director-1", approved=False, decline_reason="out of scope"
            ),
            request_id,
        )
    )


async def test_a_send_interrupted_twice_is_not_sent_a_third_time_and_its_outcome_is_unknown(service) -> None:
    await decline(service)
    with pytest.raises(Killed):
        await worker(service, dies=True).deliver_due()
    [interrupted] = service.mailbox.messages
    service.clock.advance(LEASE)
    again = worker(service, dies=True)
    assert await again.recover_lapsed() == 1
    with pytest.raises(Killed):
        await again.deliver_due()
    service.clock.advance(LEASE)

    restarted = worker(service, dies=False)
    assert await restarted.recover_lapsed() == 1  # found "sending" a second time: given up, not resent
    assert await restarted.deliver_due() == 0

    assert copies_per_message_id(service) == {interrupted["Message-ID"]: 2}
    [failed] = await service.published("NotificationFailed")
    assert "outcome unknown" in failed["error"]
    assert "unknown" in (await service.statuses()).values()
