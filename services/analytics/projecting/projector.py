"""Feeds the projections from the topics, checkpointed in the same transaction as the rows.

The projector reads partitions directly (no consumer group, ``partitions``): its position is the
``checkpoints`` table of the generation it builds (``checkpoints``), so a killed run resumes where its
last transaction committed and a replay simply starts from zero. An as-of build skips events whose own
time is after the cut (offset-by-time look-ups are not trusted on Tansu).

Per fetched batch: prepare it ahead (``batches``, in a worker: ``workers``), then in one transaction
record its ids and drop the events this generation already has (``dedupe``), let every projection
write its rows, apply the batch's erasures (``erasure``), move the checkpoints.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from services.analytics.generation_names import schema_name
from services.analytics.projecting import batches, checkpoints, dedupe, erasure, partitions, workers
from services.analytics.projecting.batches import Batch
from services.analytics.projecting.privacy import inventory
from services.analytics.projecting.projections import ALL
from services.analytics.projecting.workers import PrepareIn
from shared.bus import Broker
from shared.privacy import Receipts

PREPARE_AHEAD = 2  # batches being prepared while the database applies the one before them


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
        broker: Broker,
        generation: int,
        topics: list[str],
        *,
        as_of: datetime | None = None,
        batch_size: int = 10_000,
        prepare_in: PrepareIn = "thread",
        erase_elsewhere: bool = False,
    ) -> None:
        self.pool, self.broker, self.topics = pool, broker, topics
        self.erase_elsewhere = erase_elsewhere
        """The live projector's: an erasure is carried over to every snapshot (``erasure``)."""
        self.schema = schema_name(generation)
        self.as_of = as_of
        self.batch_size = batch_size
        self.prepare_in = prepare_in
        self.progress = Progress()

    async def run(self, stop: asyncio.Event, *, until_caught_up: bool = False, idle_polls: int = 3) -> Progress:
        """Project until ``stop`` (or, with ``until_caught_up``, until ``idle_polls`` polls in a row find nothing)."""
        with workers.tuned_for_batches(), workers.preparing_in(self.prepare_in) as worker:
            return await self._run(stop, until_caught_up, idle_polls, worker)

    async def _run(self, stop: asyncio.Event, until_caught_up: bool, idle_polls: int, worker: Executor) -> Progress:
        consumer = partitions.consumer(self.broker)
        await consumer.start()
        ahead: deque[asyncio.Future[Batch]] = deque()  # fetched, being prepared or waiting for the database
        storing: asyncio.Task[None] | None = None
        try:
            await partitions.assign(consumer, self.topics, await checkpoints.load(self.pool, self.schema))
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

    async def _store_when_prepared(self, preparing: asyncio.Future[Batch]) -> None:
        await self._store(await preparing)

    async def _store(self, batch: Batch) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            # Safe: the rows and the checkpoints commit together, so a commit lost in a crash loses both and
            # the batch is simply projected again from the checkpoint. Not waiting for the WAL flush lets
            # the next batch start while this one reaches the disk.
            await conn.execute("SET LOCAL synchronous_commit = off")
            fresh = await dedupe.new_to_generation(conn, self.schema, batch, self.as_of)
            # Prepared ahead for the whole batch; prepared again for what is left when some were copies.
            prepared = batch.prepared if fresh is None else [p.prepare(fresh) for p in ALL] if fresh else []
            for projection, rows in zip(ALL, prepared, strict=False):
                await projection.write(conn, self.schema, rows)
            if batch.erased:  # after the rows of the batch: what it added of the person goes too
                receipts = Receipts(inventory) if self.erase_elsewhere else None  # the live projector's word
                before = {p: await receipts.look(conn, p) for p in batch.erased} if receipts else {}
                await erasure.erase(conn, self.schema, batch.erased)
                if self.erase_elsewhere:
                    await erasure.erase_elsewhere(conn, self.schema, batch.erased)
                for person, looked in before.items():  # the erasure receipt (shared.privacy)
                    await receipts.record(conn, person, looked)
            await checkpoints.save(conn, self.schema, batch.next_offsets)
        self.progress.applied += batch.count if fresh is None else len(fresh)
