"""Feeds projections from the topics, checkpointed in the same transaction as the rows.

The projector reads partitions directly (no consumer group): its position is
the ``checkpoints`` table of the generation it builds, so a killed run resumes
where its last transaction committed and a replay simply starts from zero.
An as-of build skips events whose own time is after the cut (offset-by-time
look-ups are not trusted; see DESIGN.md §4).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from shared.envelope import EnvelopeRecord, InvalidEnvelope, read_envelope
from services.analytics.application.generations import schema_name
from services.analytics.projections import ALL

FETCH_BYTES = 8 * 1024 * 1024
DECODE_AHEAD = 2  # batches decoded while the database applies the one before them
GC_GEN0_THRESHOLD = 50_000
_projecting = 0
_threshold_before = gc.get_threshold()


@contextmanager
def roomy_gc() -> Iterator[None]:
    """Collect young objects less often while projecting.

    A batch holds tens of thousands of live objects (records, envelopes, payload dicts, rows), and
    with the default gen-0 threshold (700 allocations) the cycle collector ran hundreds of times per
    batch, re-scanning them: about 45% of the projector's CPU in a replay (measured with gc.disable()).
    These objects are freed by reference counting; the collector is only needed for cycles, which
    collecting every 50,000 allocations still finds. The setting is process-wide; it is restored
    when the last running projector stops.
    """
    global _projecting, _threshold_before
    if _projecting == 0:
        _threshold_before = gc.get_threshold()
        gc.set_threshold(max(_threshold_before[0], GC_GEN0_THRESHOLD), *_threshold_before[1:])
    _projecting += 1
    try:
        yield
    finally:
        _projecting -= 1
        if _projecting == 0:
            gc.set_threshold(*_threshold_before)


@dataclass
class Progress:
    read: int = 0
    applied: int = 0
    skipped_invalid: int = 0
    skipped_after_cut: int = 0
    caught_up: bool = False
    started: float = field(default_factory=time.monotonic)


@dataclass
class Batch:
    """Decoded records of one fetch, and where each partition stands after it."""

    events: list[EnvelopeRecord]
    next_offsets: dict[TopicPartition, int]


class Projector:
    """Per fetched batch: decode, drop what is after the cut, drop what this generation already has
    (one statement), let every projection apply the batch set-wise, move the checkpoints; one transaction.

    Fetching and decoding the next batches overlaps with the database applying the current one.
    """

    def __init__(
        self, pool: asyncpg.Pool, bootstrap: str, generation: int, topics: list[str],
        *, as_of: datetime | None = None, batch_size: int = 10_000,
    ) -> None:
        self.pool, self.bootstrap, self.topics = pool, bootstrap, topics
        self.schema = schema_name(generation)
        self.as_of = as_of
        self.batch_size = batch_size
        self.progress = Progress()

    async def run(self, stop: asyncio.Event, *, until_caught_up: bool = False, idle_polls: int = 3) -> Progress:
        """Project until ``stop`` (or, with ``until_caught_up``, until ``idle_polls`` polls in a row find nothing)."""
        with roomy_gc():
            return await self._run(stop, until_caught_up, idle_polls)

    async def _run(self, stop: asyncio.Event, until_caught_up: bool, idle_polls: int) -> Progress:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest", max_partition_fetch_bytes=FETCH_BYTES,
                                    fetch_max_bytes=4 * FETCH_BYTES)
        await consumer.start()
        ahead: deque[Batch] = deque()  # fetched and decoded, waiting for the database
        storing: asyncio.Task[None] | None = None
        try:
            await self._assign(consumer)
            idle = 0
            while not stop.is_set():
                if storing is not None and storing.done():
                    await storing  # raises what failed
                    storing = None
                if storing is None and ahead:
                    storing = asyncio.create_task(self._store(ahead.popleft()))
                if len(ahead) >= DECODE_AHEAD:
                    await asyncio.wait({storing})
                    continue
                records = await consumer.getmany(timeout_ms=300, max_records=self.batch_size)
                if any(records.values()):
                    idle = 0
                    ahead.append(self._decode(records))
                elif storing is None and not ahead:  # caught up only once everything fetched is committed
                    idle += 1
                    self.progress.caught_up = idle >= idle_polls
                    if until_caught_up and self.progress.caught_up:
                        break
            if storing is not None:
                await storing
        finally:
            if storing is not None and not storing.done():
                storing.cancel()  # its transaction rolls back; the checkpoints stay where they were
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

    def _decode(self, records: dict) -> Batch:
        """Envelopes inside the cut, in log order per partition."""
        events, next_offsets = [], {}
        for tp, partition_records in records.items():
            for record in partition_records:
                try:
                    envelope = read_envelope(record.value)
                except InvalidEnvelope:
                    self.progress.skipped_invalid += 1
                    continue
                if self.as_of is not None and envelope.time > self.as_of:
                    self.progress.skipped_after_cut += 1
                    continue
                events.append(envelope)
            self.progress.read += len(partition_records)
            next_offsets[tp] = partition_records[-1].offset + 1
        return Batch(events, next_offsets)

    async def _store(self, batch: Batch) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            # Safe: the rows and the checkpoints commit together, so a commit lost in a crash loses both and
            # the batch is simply projected again from the checkpoint. Not waiting for the WAL flush lets
            # the next batch start while this one reaches the disk.
            await conn.execute("SET LOCAL synchronous_commit = off")
            fresh = await self._new_to_generation(conn, batch.events)
            if fresh:
                for projection in ALL:
                    await projection.apply_batch(conn, self.schema, fresh)
            topics, partitions, offsets = zip(*((tp.topic, tp.partition, o) for tp, o in batch.next_offsets.items()))
            await conn.execute(
                f"INSERT INTO {self.schema}.checkpoints (topic, partition, next_offset)"
                " SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[])"
                " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
                list(topics), list(partitions), list(offsets),
            )
        self.progress.applied += len(fresh)

    async def _new_to_generation(self, conn: asyncpg.Connection, events: list[EnvelopeRecord]) -> list[EnvelopeRecord]:
        """The events this generation has not applied yet (a republished copy is recognised by its id), recorded.

        The ids travel as one ``bytea`` of 16-byte values, split in SQL (asyncpg would check each element of
        a ``uuid[]`` parameter in Python, and ``str(uuid)`` costs more than ``uuid.bytes``). In a replay
        almost every id is new, so the statement answers with a count alone; only when it falls short of
        the batch are the inserted ids sent back to tell which events were copies.
        """
        if not events:
            return []
        unique = dict.fromkeys([e.id for e in events])  # a copy later in the same batch: only the first counts
        count, inserted = await conn.fetchrow(
            f"WITH given AS (SELECT encode(substring($1::bytea FROM i * 16 + 1 FOR 16), 'hex')::uuid AS event_id"
            f" FROM generate_series(0, length($1::bytea) / 16 - 1) AS i),"
            f" ins AS (INSERT INTO {self.schema}.projected_events SELECT event_id FROM given"
            f" ON CONFLICT DO NOTHING RETURNING event_id)"
            f" SELECT count(*), CASE WHEN count(*) < $2 THEN array_agg(event_id) END FROM ins",
            b"".join([i.bytes for i in unique]), len(unique),
        )
        if count == len(unique):  # every id was new to the generation
            if count == len(events):
                return events
            new_ids = set(unique)
        else:
            new_ids = set(inserted or ())  # none at all: array_agg of no rows is null
        fresh = []
        for envelope in events:
            if envelope.id in new_ids:
                new_ids.discard(envelope.id)
                fresh.append(envelope)
        return fresh


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
