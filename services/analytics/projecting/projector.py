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
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.analytics.projecting import batches, binary_copy
from services.analytics.projecting.batches import Batch
from services.analytics.projecting.generations import schema_name
from services.analytics.projecting.projections import ALL
from shared.envelope import EnvelopeRecord

FETCH_BYTES = 8 * 1024 * 1024
PrepareIn = Literal["thread", "process"]
PREPARE_AHEAD = 2  # batches being prepared while the database applies the one before them
PREPARE_PROCESSES = 2  # a replay's worker processes: each prepares every other batch
GC_GEN0_THRESHOLD = 50_000
SWITCH_INTERVAL_S = 0.001
_projecting = 0
_settings_before = (gc.get_threshold(), sys.getswitchinterval())


@contextmanager
def tuned_for_batches() -> Iterator[None]:
    """Interpreter settings for projecting big batches with a worker thread. They are process-wide, so
    they are restored when the last running projector stops.

    - Collect young objects less often. A batch holds tens of thousands of live objects (records,
      envelopes, payload dicts, rows), and with the default gen-0 threshold (700 allocations) the cycle
      collector ran hundreds of times per batch, re-scanning them: about 45% of the projector's CPU in a
      replay. They are freed by reference counting; collecting every 50,000 allocations still finds cycles.
    - Hand the GIL to the event loop sooner. While the worker thread prepares the next batch, the loop
      waits for the interpreter each time Postgres answers one of the batch's few dozen statements; with
      the default 5 ms switch interval Postgres sat idle for much of that. Measured in the replay
      benchmark (500,000 events, three runs each, alternating): 5 ms 26,900 events/s, 1 ms 30,900.
    """
    global _projecting, _settings_before
    if _projecting == 0:
        _settings_before = (gc.get_threshold(), sys.getswitchinterval())
        threshold = _settings_before[0]
        gc.set_threshold(max(threshold[0], GC_GEN0_THRESHOLD), *threshold[1:])
        sys.setswitchinterval(min(_settings_before[1], SWITCH_INTERVAL_S))
    _projecting += 1
    try:
        yield
    finally:
        _projecting -= 1
        if _projecting == 0:
            gc.set_threshold(*_settings_before[0])
            sys.setswitchinterval(_settings_before[1])


@dataclass
class Progress:
    read: int = 0
    applied: int = 0
    skipped_invalid: int = 0
    skipped_after_cut: int = 0
    caught_up: bool = False
    started: float = field(default_factory=time.monotonic)


class Projector:
    """Per fetched batch: decode, drop what is after the cut, drop what this generation already has
    (one statement), let every projection write the batch set-wise, move the checkpoints; one transaction.

    Decoding and preparing the projections' rows runs ahead, in a worker thread or (``prepare_in="process"``,
    for replays) in two worker processes taking every other batch: the next batches are prepared while
    the database applies the current one, so Python and Postgres work at the same time. Batches are
    stored in fetch order whoever prepared them.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        bootstrap: str,
        generation: int,
        topics: list[str],
        *,
        as_of: datetime | None = None,
        batch_size: int = 10_000,
        prepare_in: PrepareIn = "thread",
    ) -> None:
        self.pool, self.bootstrap, self.topics = pool, bootstrap, topics
        self.schema = schema_name(generation)
        self.as_of = as_of
        self.batch_size = batch_size
        self.prepare_in = prepare_in
        self.progress = Progress()

    async def run(self, stop: asyncio.Event, *, until_caught_up: bool = False, idle_polls: int = 3) -> Progress:
        """Project until ``stop`` (or, with ``until_caught_up``, until ``idle_polls`` polls in a row find nothing)."""
        with tuned_for_batches(), self._worker() as worker:
            return await self._run(stop, until_caught_up, idle_polls, worker)

    def _worker(self) -> Executor:
        if self.prepare_in == "process":
            return ProcessPoolExecutor(
                PREPARE_PROCESSES,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=batches.start_worker_process,
                initargs=(os.getpid(),),
            )
        return ThreadPoolExecutor(1, thread_name_prefix="projector-prepare")

    async def _prepare(self, worker: Executor, fetched: dict) -> Batch:
        """Hand the fetched records to the worker, and count what it read."""
        records = [
            ((tp.topic, tp.partition), [r.value for r in rs], rs[-1].offset + 1) for tp, rs in fetched.items() if rs
        ]
        loop = asyncio.get_running_loop()
        if self.prepare_in == "process":
            batch = await loop.run_in_executor(worker, batches.prepare_elsewhere, records, self.as_of)
            batch.records = records
        else:
            batch = await loop.run_in_executor(worker, batches.prepare_batch, records, self.as_of)
        self.progress.read += batch.read
        self.progress.skipped_invalid += batch.skipped_invalid
        self.progress.skipped_after_cut += batch.skipped_after_cut
        return batch

    async def _run(self, stop: asyncio.Event, until_caught_up: bool, idle_polls: int, worker: Executor) -> Progress:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=FETCH_BYTES,
            fetch_max_bytes=4 * FETCH_BYTES,
        )
        await consumer.start()
        ahead: deque[asyncio.Future[Batch]] = deque()  # fetched, being prepared or waiting for the database
        storing: asyncio.Task[None] | None = None
        try:
            await self._assign(consumer)
            idle = 0
            while not stop.is_set():
                if storing is not None and storing.done():
                    await storing  # raises what failed
                    storing = None
                if storing is None and ahead:
                    storing = asyncio.create_task(self._store_when_prepared(ahead.popleft()))
                if len(ahead) >= PREPARE_AHEAD:
                    await asyncio.wait({storing})
                    continue
                records = await consumer.getmany(timeout_ms=300, max_records=self.batch_size)
                if any(records.values()):
                    idle = 0
                    ahead.append(asyncio.ensure_future(self._prepare(worker, records)))
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
            for preparing in ahead:
                preparing.cancel()
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

    async def _store_when_prepared(self, preparing: asyncio.Future[Batch]) -> None:
        await self._store(await preparing)

    async def _store(self, batch: Batch) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            # Safe: the rows and the checkpoints commit together, so a commit lost in a crash loses both and
            # the batch is simply projected again from the checkpoint. Not waiting for the WAL flush lets
            # the next batch start while this one reaches the disk.
            await conn.execute("SET LOCAL synchronous_commit = off")
            fresh = await self._new_to_generation(conn, batch)
            # Prepared ahead for the whole batch; prepared again for what is left when some were copies.
            prepared = batch.prepared if fresh is None else [p.prepare(fresh) for p in ALL] if fresh else []
            for projection, rows in zip(ALL, prepared, strict=False):
                await projection.write(conn, self.schema, rows)
            topics, partitions, offsets = zip(
                *((topic, partition, o) for (topic, partition), o in batch.next_offsets.items()), strict=False
            )
            await conn.execute(
                f"INSERT INTO {self.schema}.checkpoints (topic, partition, next_offset)"
                " SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[])"
                " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
                list(topics),
                list(partitions),
                list(offsets),
            )
        self.progress.applied += batch.count if fresh is None else len(fresh)

    async def _new_to_generation(self, conn: asyncpg.Connection, batch: Batch) -> list[EnvelopeRecord] | None:
        """The events this generation has not applied yet (a republished copy is recognised by its id), recorded;
        ``None`` when that is every event of the batch.

        The ids are copied into ``projected_events`` (its key rejects one applied before): a plain COPY costs
        Postgres about half of an ``INSERT … ON CONFLICT DO NOTHING RETURNING``. Only when the COPY hits a
        copy does the slower statement tell which events are new.
        """
        if not batch.count:
            return []
        try:
            async with conn.transaction():  # a savepoint: a failed COPY leaves the batch's transaction usable
                await binary_copy.copy_encoded(conn, self.schema, "projected_events", ["event_id"], batch.encoded_ids)
            if batch.unique_ids == batch.count:
                return None
            new_ids = set(batch.ids())  # a copy later in the same batch: only the first counts
        except asyncpg.UniqueViolationError:
            inserted = await conn.fetchval(
                f"WITH ins AS (INSERT INTO {self.schema}.projected_events SELECT unnest($1::uuid[])"
                f" ON CONFLICT DO NOTHING RETURNING event_id) SELECT coalesce(array_agg(event_id), '{{}}') FROM ins",
                batch.ids(),
            )
            new_ids = {UUID(bytes=i.bytes) for i in inserted}
        fresh = []
        for envelope in batch.decoded_events(self.as_of):
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
