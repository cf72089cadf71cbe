"""A version newer than the consumer's catalog knows, through FastStream on the real broker and real Postgres:
dead-lettered with a reason naming the type and both versions, and the consumer carries on (one by one and in
batches)."""

from __future__ import annotations

import pytest

from shared.bus import dead_letter_topic
from shared.events.profiles import MentorCapacityChanged
from shared.inbox import Delivery, IdempotentConsumer
from tests.helpers import consume_all, eventually
from tests.integration.test_idempotent_consumer import Scenario, capacity

pytestmark = pytest.mark.integration

KNOWN = MentorCapacityChanged.schema_version


@pytest.fixture
async def scenario(broker, pool, topic_name):
    scenario = Scenario(broker.bootstrap, pool, topic_name)
    await scenario.start()
    yield scenario
    await scenario.stop()


def newer(new_capacity: int):
    """A MentorCapacityChanged from a producer one version ahead; its payload would even validate today."""
    envelope = capacity(new_capacity)
    return envelope.model_copy(update={"schemaversion": KNOWN + 1, "data": {**envelope.data, "reason": "sabbatical"}})


async def test_a_newer_version_is_dead_lettered_naming_the_type_and_both_versions(scenario: Scenario, broker) -> None:
    await scenario.send(capacity(1).to_bytes())
    await scenario.send(newer(2).to_bytes())
    await scenario.send(capacity(3).to_bytes())

    await eventually(lambda: _has(scenario, [1, 3]))
    assert scenario.calls == {1: 1, 3: 1}  # the handler never saw the newer payload
    [dead] = await consume_all(broker.bootstrap, dead_letter_topic(scenario.group), expected=1)
    headers = dict(dead.headers)
    assert headers["x-dlq-reason"] == b"unknown-schema-version"
    assert headers["x-dlq-error"].decode() == (
        f"MentorCapacityChanged has schema version {KNOWN + 1}, newer than this reader's catalog (version {KNOWN})"
    )
    assert headers["x-dlq-source-offset"] == b"1" and headers["x-dlq-attempts"] == b"0"
    assert await scenario.pool.fetchval("SELECT count(*) FROM inbox WHERE consumer_group = $1", scenario.group) == 2


async def test_in_a_batch_the_newer_version_is_dead_lettered_and_the_others_handled(scenario: Scenario, broker) -> None:
    consumer = IdempotentConsumer(
        scenario.pool, scenario.group, {"MentorCapacityChanged": scenario.on_capacity}, scenario.producer
    )
    records = [capacity(4), newer(5), capacity(6)]
    deliveries = [Delivery(r.to_bytes(), scenario.topic, 0, 10 + i, b"m1") for i, r in enumerate(records)]
    assert await consumer.process_batch(deliveries) == ["handled", "dead_lettered", "handled"]
    assert await scenario.effects() == [4, 6]
    [dead] = await consume_all(broker.bootstrap, dead_letter_topic(scenario.group), expected=1)
    assert dict(dead.headers)["x-dlq-reason"] == b"unknown-schema-version"


async def _has(scenario: Scenario, values: list[int]) -> bool:
    return await scenario.effects() == values
