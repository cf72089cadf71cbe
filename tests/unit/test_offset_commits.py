"""``shared.subscription.Commits``: offsets committed at most once an interval, never before their records' effects,
always before partitions are taken away or the consumer goes; a stand-in for the aiokafka consumer."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError

from shared.subscription import Commits

pytestmark = pytest.mark.unit

A, B = TopicPartition("t", 0), TopicPartition("t", 1)


class FakeConsumer:
    def __init__(self, *assigned: TopicPartition, refuse: bool = False) -> None:
        self.assigned = set(assigned)
        self.refuse = refuse
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.refuse:
            raise CommitFailedError("the group has rebalanced")
        self.commits.append(dict(offsets))


def record(tp: TopicPartition, offset: int) -> ConsumerRecord:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, b"", None, 0, 0, [])


async def settled() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_first_batch_after_a_quiet_interval_is_committed_at_once_later_ones_gather() -> None:
    kafka, commits = FakeConsumer(A, B), Commits(interval=3600)
    commits.note(kafka, [record(A, 4)])
    await settled()
    assert kafka.commits == [{A: 5}]
    commits.note(kafka, [record(A, 5)])
    commits.note(kafka, [record(A, 6), record(B, 0)])
    await settled()
    assert kafka.commits == [{A: 5}]  # held until the interval has passed
    await commits.flush()
    assert kafka.commits == [{A: 5}, {A: 7, B: 1}]  # the last offset of each partition, once
    commits.cancel()


async def test_held_offsets_are_committed_when_the_interval_has_passed() -> None:
    kafka, commits = FakeConsumer(A), Commits(interval=0.05)
    commits.note(kafka, [record(A, 0)])
    await settled()
    commits.note(kafka, [record(A, 1)])
    await settled()
    assert kafka.commits == [{A: 1}]
    while len(kafka.commits) < 2:  # no new record: the held offset still goes (an idle consumer's lag reaches 0)
        await asyncio.sleep(0.01)
    assert kafka.commits == [{A: 1}, {A: 2}]


async def test_partitions_being_revoked_are_committed_first_and_only_they() -> None:
    kafka, commits = FakeConsumer(A, B), Commits(interval=3600)
    commits.note(kafka, [record(A, 0)])
    await settled()
    commits.note(kafka, [record(A, 1), record(B, 7)])
    await commits.on_partitions_revoked({B})
    assert kafka.commits == [{A: 1}, {B: 8}]
    kafka.assigned = {A}
    await commits.flush()
    assert kafka.commits == [{A: 1}, {B: 8}, {A: 2}]
    commits.cancel()


async def test_a_partition_no_longer_assigned_is_left_to_its_new_owner() -> None:
    kafka, commits = FakeConsumer(A, B), Commits(interval=3600)
    commits.note(kafka, [record(A, 0)])
    await settled()
    commits.note(kafka, [record(A, 1), record(B, 3)])
    kafka.assigned = {A}
    await commits.flush()
    assert kafka.commits == [{A: 1}, {A: 2}]
    await commits.flush()
    assert kafka.commits == [{A: 1}, {A: 2}]  # B's offset is not kept for later either
    commits.cancel()


async def test_a_refused_commit_is_dropped_not_retried() -> None:
    """The group moved on: the records come again to whoever holds the partition, and the inbox makes them
    duplicates; a commit of an old generation's offsets later could move the new owner's offset back."""
    kafka, commits = FakeConsumer(A, refuse=True), Commits(interval=3600)
    commits.note(kafka, [record(A, 0)])
    await settled()
    kafka.refuse = False
    await commits.flush()
    assert kafka.commits == []
    commits.cancel()


async def test_a_new_consumer_starts_with_nothing_held() -> None:
    """After a restart the old member's offsets are not committed by the new one (they were flushed before)."""
    old, new, commits = FakeConsumer(A), FakeConsumer(A), Commits(interval=3600)
    commits.note(old, [record(A, 0)])
    await settled()
    commits.note(old, [record(A, 1)])
    commits.note(new, [record(A, 5)])
    await commits.flush()
    assert old.commits == [{A: 1}]
    assert new.commits == [{A: 6}]
    commits.cancel()
