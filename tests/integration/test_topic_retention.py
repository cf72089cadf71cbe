"""Which topics keep their records forever: the services' own (personal fields sealed), not HR's plain-text feed
nor the dead letters that may copy it."""

from __future__ import annotations

import uuid

from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.bus import HR_TOPIC, dead_letter_topic, ensure_topics, new_admin, retention_for, topic_for

THIRTY_DAYS_MS = str(30 * 24 * 3600 * 1000)


def test_own_topics_are_kept_forever_the_inbound_feed_and_dead_letters_thirty_days() -> None:
    for service in ("profiles", "matching", "relationships", "notifications"):
        assert retention_for(topic_for(service))["retention.ms"] == "-1"
    assert retention_for(HR_TOPIC)["retention.ms"] == THIRTY_DAYS_MS
    assert retention_for(dead_letter_topic("matching"))["retention.ms"] == THIRTY_DAYS_MS
    assert retention_for(HR_TOPIC, days=7)["retention.ms"] == str(7 * 24 * 3600 * 1000)


async def test_the_broker_is_asked_for_a_transient_topics_retention(broker) -> None:
    topic = dead_letter_topic(f"retention-{uuid.uuid4().hex[:8]}")
    await ensure_topics(broker.bootstrap, [topic], partitions=1)
    admin = new_admin(broker.bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    (resource,) = response.resources
    entries = {entry[0]: entry[1] for entry in resource[4]}
    assert entries["retention.ms"] == THIRTY_DAYS_MS
    assert entries["max.message.bytes"] is not None
