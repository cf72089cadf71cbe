"""Every record of the event topics, from offset 0 to the end, without a consumer group.

The end is the end offsets taken when the partitions are reached, asked again
until they stop growing and one more poll finds nothing (Tansu's end offsets can
lag behind its last batch), so nothing appended before the export started is missed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from shared.bus import BrokerAccess, new_consumer


class BrokerUnavailable(RuntimeError):
    pass


@dataclass
class TopicsRead:
    partitions: dict[str, int] = field(default_factory=dict)  # topic -> partition count
    missing: list[str] = field(default_factory=list)
    estimate: int = 0  # records between the beginning and end offsets when the read started
    stopped_short: list[str] = field(default_factory=list)  # partitions that never reached their end offset


class TopicReader:
    def __init__(self, bootstrap: str, topics: list[str], batch_size: int = 5000, idle_polls: int = 20) -> None:
        self.bootstrap, self.topics, self.batch_size, self.idle_polls = bootstrap, topics, batch_size, idle_polls
        self.info = TopicsRead()
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []

    async def __aenter__(self) -> TopicReader:
        consumer = new_consumer(
            BrokerAccess.from_env(self.bootstrap),  # TLS and SASL from MENTORSHIP_KAFKA_*, as the services'
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=15000,
        )
        try:
            await consumer.start()
        except KafkaError as exc:
            await consumer.stop()
            raise BrokerUnavailable(f"cannot reach the broker at {self.bootstrap}: {exc}") from None
        self._consumer = consumer
        available = await consumer.topics()
        for topic in self.topics:
            numbers = sorted(consumer.partitions_for_topic(topic) or []) if topic in available else []
            if not numbers:
                self.info.missing.append(topic)
                continue
            self.info.partitions[topic] = len(numbers)
            self._partitions += [TopicPartition(topic, n) for n in numbers]
        if self._partitions:
            consumer.assign(self._partitions)
            await consumer.seek_to_beginning(*self._partitions)
            starts = await consumer.beginning_offsets(self._partitions)
            ends = await consumer.end_offsets(self._partitions)
            self.info.estimate = sum(max(ends[tp] - starts[tp], 0) for tp in self._partitions)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def batches(self) -> AsyncIterator[list[ConsumerRecord]]:
        consumer = self._consumer
        assert consumer is not None, "use TopicReader in an async with block"
        if not self._partitions:
            return
        ends = await consumer.end_offsets(self._partitions)
        idle = 0
        while True:
            fetched = await consumer.getmany(timeout_ms=500, max_records=self.batch_size)
            records = [record for batch in fetched.values() for record in batch]
            if records:
                idle = 0
                yield records
                continue
            behind = [tp for tp in self._partitions if await consumer.position(tp) < ends[tp]]
            if not behind:
                latest = await consumer.end_offsets(self._partitions)
                if latest == ends:
                    return
                ends = latest
                continue
            idle += 1
            if idle >= self.idle_polls:  # offsets the broker will not serve (a gap): report, do not hang
                self.info.stopped_short = [f"{tp.topic}[{tp.partition}]" for tp in behind]
                return
