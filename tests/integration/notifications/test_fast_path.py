"""The fast path keeps every guarantee: pooled SMTP sessions are reused, and one the server dropped
is replaced with the message still arriving exactly once; the running worker's concurrent batches
never share an intent; the consumer's batches have the outcomes of one event at a time."""

from __future__ import annotations

import pytest

from shared.events.matching import MatchApproved
from shared.events.relationships import RelationshipLagging
from shared.inbox import Delivery, IdempotentConsumer
from tests.helpers import eventually, unique
from tests.integration.notifications.conftest import person, running
from tests.integration.service_harness import envelope_of


@pytest.fixture
async def one_session(fresh_dsn, broker, smtp, hooks):
    """Delivery driven by the test, with a single pooled SMTP session."""
    async with running(fresh_dsn, broker.bootstrap, smtp, hooks, run_worker=False, smtp_connections=1) as service:
        yield service


@pytest.fixture
async def small_batches(fresh_dsn, broker, smtp, hooks):
    """The delivery worker running, with small claims and several of them in flight at once."""
    async with running(
        fresh_dsn,
        broker.bootstrap,
        smtp,
        hooks,
        run_worker=True,
        delivery_concurrency=3,
        delivery_batches=3,
        smtp_connections=2,
    ) as service:
        yield service


async def introduce(service) -> tuple[str, str]:
    mentor, mentee, match_id = unique("mentor"), unique("mentee"), unique("match")
    await service.consume(
        person(mentor, "Prof Mira Mentor", mentor=True),
        person(mentee, "Tom Trainee"),
        envelope_of(MatchApproved(match_id=match_id, mentee_id=mentee, mentor_id=mentor, mode="admin"), match_id),
    )
    return mentor, mentee


def delivery(envelope) -> Delivery:
    return Delivery(envelope.to_bytes(), "matching.events", 0, 0, envelope.subject.encode())


def received_once(service, *people: str) -> bool:
    return all(len(service.mailbox.to(f"{p}@uni.example")) == 1 for p in people)


async def test_one_session_carries_message_after_message(one_session) -> None:
    service = one_session
    for _ in range(3):
        people = await introduce(service)
        assert await service.deliver() == 2
        assert received_once(service, *people)
    assert service.mailbox.sessions == 1
    assert len(service.mailbox.messages) == 6
    assert len(await service.published("NotificationSent")) == 6


async def test_a_session_the_server_hung_up_is_replaced_and_the_message_arrives_once(one_session) -> None:
    service = one_session
    await introduce(service)
    assert await service.deliver() == 2
    service.mailbox.hang_up = 1  # the pooled session is refused at MAIL FROM and closed by the server
    people = await introduce(service)
    assert await service.deliver() == 2
    assert received_once(service, *people)
    assert service.mailbox.sessions == 2
    sent = await service.published("NotificationSent")
    assert len(sent) == 4 and all(e["attempts"] == 1 for e in sent)  # no retry: the message went on a new session
    assert set((await service.statuses()).values()) == {"sent"}


async def test_sessions_dropped_by_a_server_restart_are_replaced(one_session) -> None:
    service = one_session
    await introduce(service)
    assert await service.deliver() == 2
    service.smtp.restart()
    people = await introduce(service)
    assert await service.deliver() == 2
    assert received_once(service, *people)
    assert service.mailbox.sessions == 2
    assert len(service.mailbox.messages) == 4 and len(await service.published("NotificationSent")) == 4
    assert await service.published("NotificationFailed") == []


async def test_the_running_worker_sends_each_of_many_messages_once(small_batches) -> None:
    service = small_batches
    people = [(unique("mentor"), unique("mentee")) for _ in range(12)]
    await service.consume(*(person(p, "Someone", mentor=i == 0) for pair in people for i, p in enumerate(pair)))
    runtime = service.runtime
    consumer = IdempotentConsumer(runtime.pool, runtime.group, runtime.handlers, runtime.producer)
    matches = [
        envelope_of(MatchApproved(match_id=m, mentee_id=mentee, mentor_id=mentor, mode="admin"), m)
        for m, (mentor, mentee) in ((unique("match"), pair) for pair in people)
    ]
    assert set(await consumer.process_batch([delivery(m) for m in matches])) == {"handled"}  # 24 intents at once

    async def all_sent() -> bool:
        return len(await service.published("NotificationSent")) >= 24

    await eventually(all_sent, timeout=40)
    assert all(received_once(service, *pair) for pair in people)
    assert len(service.mailbox.messages) == 24 and len({m["Message-ID"] for m in service.mailbox.messages}) == 24
    assert set((await service.statuses()).values()) == {"sent"}
    assert len(await service.published("NotificationSent")) == 24
    assert service.mailbox.sessions <= 2


async def test_a_batch_of_events_has_the_outcomes_of_one_event_at_a_time(service) -> None:
    pairs = [(unique("mentor"), unique("mentee")) for _ in range(2)]
    await service.consume(*(person(p, "Someone", mentor=i == 0) for pair in pairs for i, p in enumerate(pair)))
    first, second = (
        envelope_of(MatchApproved(match_id=m, mentee_id=mentee, mentor_id=mentor, mode="admin"), m)
        for m, (mentor, mentee) in zip((unique("match"), unique("match")), pairs, strict=False)
    )
    unknown = unique("rel")
    lagging = envelope_of(
        RelationshipLagging(relationship_id=unknown, last_meeting_on=None, days_since=90, cadence_weeks_max=4), unknown
    )
    runtime = service.runtime
    consumer = IdempotentConsumer(runtime.pool, runtime.group, runtime.handlers, runtime.producer)

    outcomes = await consumer.process_batch(
        [
            delivery(first),
            delivery(first),
            delivery(lagging),
            Delivery(b"not an event", "matching.events", 0, 1),
            delivery(second),
        ]
    )
    assert outcomes == ["handled", "duplicate", "dead_lettered", "dead_lettered", "handled"]
    assert await consumer.process_batch([delivery(second), delivery(first)]) == ["duplicate", "duplicate"]
    assert await service.deliver() == 4
    assert all(received_once(service, *pair) for pair in pairs)
