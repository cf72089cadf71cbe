"""Rebuild the projections from the beginning of every topic without downtime.

A replay fills a new generation while the live one keeps serving; when it has
caught up it is swapped in (the live projector follows the swap).  An as-of
replay stops at a moment in time and stays a snapshot beside the live one, within
the snapshot policy (``snapshots``: a cap and an expiry), erased like the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.analytics.projecting import erasure, snapshots
from services.analytics.projecting.generations import (
    build_indexes,
    create_generation,
    make_live,
)
from services.analytics.projecting.partitions import estimate_total
from services.analytics.projecting.projector import Projector
from services.analytics.projecting.snapshots import SnapshotPolicy
from shared.bus import Broker


@dataclass
class Replay:
    generation: int
    as_of: datetime | None
    projector: Projector
    total_estimate: int
    state: str = "running"
    error: str | None = None
    finished_at: float | None = None

    def status(self) -> dict:
        progress = self.projector.progress
        elapsed = (self.finished_at or time.monotonic()) - progress.started
        rate = progress.read / elapsed if elapsed > 0 else 0.0
        remaining = max(self.total_estimate - progress.read, 0)
        return {
            "generation": self.generation,
            "state": self.state,
            "as_of": self.as_of,
            "error": self.error,
            "read": progress.read,
            "applied": progress.applied,
            "skipped_invalid": progress.skipped_invalid,
            "skipped_after_cut": progress.skipped_after_cut,
            "total_estimate": self.total_estimate,
            "events_per_second": round(rate, 1),
            "eta_seconds": round(remaining / rate, 1) if rate and self.state == "running" else None,
        }


class ReplayAlreadyRunning(RuntimeError):
    pass


REPLAY_LOCK = 7_240_300
"""Advisory lock held while a replay runs: one replay at a time across every analytics replica."""


class Replays:
    """At most one replay at a time per analytics process; as-of snapshots within ``policy``."""

    def __init__(
        self, pool: asyncpg.Pool, broker: Broker, topics: list[str], policy: SnapshotPolicy | None = None
    ) -> None:
        self.pool, self.broker, self.topics = pool, broker, topics
        self.policy = policy or SnapshotPolicy()
        self.known: dict[int, Replay] = {}
        self._task: asyncio.Task[None] | None = None
        self._holder: asyncpg.Connection | None = None

    async def start(self, as_of: datetime | None, total_estimate: int | None = None) -> Replay:
        """Start building a new generation (as of ``as_of``, if given); ``total_estimate`` (default: the
        records on the topics now) only feeds the progress report."""
        if total_estimate is None:
            total_estimate = await estimate_total(self.broker, self.topics)
        if self._task is not None and not self._task.done():
            raise ReplayAlreadyRunning("a replay is already running; wait for it to finish")
        holder = await self.pool.acquire()  # holds REPLAY_LOCK for the whole replay, across replicas
        try:
            if not await holder.fetchval("SELECT pg_try_advisory_lock($1)", REPLAY_LOCK):
                raise ReplayAlreadyRunning("a replay is already running on another replica; wait for it to finish")
            if as_of is not None:
                await snapshots.drop_abandoned_builds(holder)
                await snapshots.drop_expired(self.pool, self.policy)
                await snapshots.check_room(holder, self.policy)
            generation = await create_generation(holder, as_of=as_of, defer_indexes=True)
        except BaseException:
            await self.pool.release(holder)  # the pool's reset drops a lock taken here
            raise
        projector = Projector(self.pool, self.broker, generation, self.topics, as_of=as_of, prepare_in="process")
        replay = Replay(generation, as_of, projector, total_estimate)
        self.known[generation] = replay
        self._holder = holder
        self._task = asyncio.create_task(self._run(replay), name=f"replay-{generation}")
        return replay

    async def _run(self, replay: Replay) -> None:
        try:
            await self._rebuild(replay)
        finally:
            await self._release_lock()

    async def _release_lock(self) -> None:
        holder, self._holder = self._holder, None
        if holder is None:
            return
        with contextlib.suppress(
            OSError, asyncpg.PostgresError, asyncpg.InterfaceError
        ):  # a lost session holds no lock
            await holder.execute("SELECT pg_advisory_unlock($1)", REPLAY_LOCK)
        await self.pool.release(holder)

    async def _rebuild(self, replay: Replay) -> None:
        try:
            await replay.projector.run(asyncio.Event(), until_caught_up=True)
            async with self.pool.acquire() as conn:
                await build_indexes(conn, replay.generation, self.pool)  # left out while projecting; needed to serve it
                if replay.as_of is None:
                    await make_live(conn, replay.generation)
                    replay.state = "live"
                else:
                    async with conn.transaction():  # served only once erased like the rest (``erasure``)
                        await erasure.carry_over(conn, replay.generation)
                        await conn.execute(
                            "UPDATE projection_generations SET state = 'snapshot' WHERE generation = $1",
                            replay.generation,
                        )
                    replay.state = "snapshot"
        except Exception as exc:
            replay.state, replay.error = "failed", repr(exc)
        finally:
            replay.finished_at = time.monotonic()

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._release_lock()  # a task cancelled before it ran never reached its own clean-up
