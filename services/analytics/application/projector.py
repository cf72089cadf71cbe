"""Feeds projections from the topics, checkpointed in the same transaction as the rows.

The projector reads partitions directly (no consumer group): its position is
the ``checkpoints`` table of the generation it builds, so a killed run resumes
where its last transaction committed and a replay simply starts from zero.
An as-of build skips events whose own time is after the cut (offset-by-time
look-ups are not trusted; see DESIGN.md §4).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from shared.envelope import Envelope
from shared.logging import get_logger
from services.analytics.application.generations import schema_name
from services.analytics.projections import program, timeline

log = get_logger(__name__)


@dataclass
class Progress:
    read: int = 0
    applied: int = 0
    skipped_invalid: int = 0
    skipped_after_cut: int = 0
    caught_up: bool = False
    started: float = field(default_factory=time.monotonic)


class Projector:
    def __init__(
        self, pool: asyncpg.Pool, bootstrap: str, generation: int, topics: list[str],
        *, as_of: datetime | None = None, batch_size: int = 2000,
    ) -> None:
        self.pool, self.bootstrap, self.topics = pool, bootstrap, topics
        self.schema = schema_name(generation)
        self.as_of = as_of
        self.batch_size = batch_size
        self.progress = Progress()

    async def run(self, stop: asyncio.Event, *, until_caught_up: bool = False, idle_polls: int = 3) -> Progress:
        """Project until ``stop`` (or, with ``until_caught_up``, until ``idle_polls`` polls in a row find nothing)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            await self._assign(consumer)
            idle = 0
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=300, max_records=self.batch_size)
                if not any(batches.values()):
                    idle += 1
                    self.progress.caught_up = idle >= idle_polls
                    if until_caught_up and self.progress.caught_up:
                        break
                    continue
                idle = 0
                await self._apply(batches)
        finally:
            await consumer.stop()
        return self.progress

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        await consumer.topics()  # loads metadata
        partitions = [TopicPartition(t, p) for t in self.topics for p in sorted(consumer.partitions_for_topic(t) or [])]
        consumer.assign(partitions)
        rows = await self.pool.fetch(f"SELECT topic, partition, next_offset FROM {self.schema}.checkpoints")
        checkpoints = {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        for tp in partitions:
            if tp in checkpoints:
                consumer.seek(tp, checkpoints[tp])
            else:
                await consumer.seek_to_beginning(tp)

    async def _apply(self, batches: dict) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            for tp, records in batches.items():
                for record in records:
                    self.progress.read += 1
                    try:
                        envelope = Envelope.from_bytes(record.value)
                    except ValidationError:
                        self.progress.skipped_invalid += 1
                        continue
                    if self.as_of is not None and envelope.time > self.as_of:
                        self.progress.skipped_after_cut += 1
                        continue
                    fresh = await conn.fetchval(
                        f"INSERT INTO {self.schema}.projected_events VALUES ($1) ON CONFLICT DO NOTHING RETURNING true",
                        envelope.id,
                    )
                    if not fresh:
                        continue  # republished: already in this generation
                    try:  # a payload missing what a projection needs fails in Python, before its statement runs
                        await timeline.apply(conn, self.schema, envelope)
                        await program.apply(conn, self.schema, envelope)
                    except (KeyError, TypeError, ValueError) as exc:
                        log.warning("event not projectable; skipped", event_id=str(envelope.id), error=repr(exc))
                        self.progress.skipped_invalid += 1
                        continue
                    self.progress.applied += 1
                await conn.execute(
                    f"INSERT INTO {self.schema}.checkpoints (topic, partition, next_offset) VALUES ($1, $2, $3)"
                    " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
                    tp.topic, tp.partition, records[-1].offset + 1,
                )


async def estimate_total(bootstrap: str, topics: list[str]) -> int:
    """Records on the topics now (an estimate: Tansu's end offsets can lag behind the last batch)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or [])]
        if not partitions:
            return 0
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        return sum(max(ends[tp] - starts[tp], 0) for tp in partitions)
    finally:
        await consumer.stop()
