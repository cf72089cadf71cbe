"""The live projector: keeps the live generation current, on one replica at a time.

Every replica runs it; the one holding ``LIVE_PROJECTOR_LOCK`` projects, the others stand by and take
over within about a second. After an upgrade that changed a projection's DDL the live generation is of
another shape: it is rebuilt from the beginning of every topic and swapped in. It carries every erasure
over to the snapshots (``erasure``) and drops the expired ones (``snapshots``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

import asyncpg

from services.analytics.projecting import snapshots
from services.analytics.projecting.generations import (
    SHAPE,
    build_indexes,
    create_generation,
    ensure_live,
    generation_shape,
    live_generation,
    make_live,
)
from services.analytics.projecting.projector import Projector
from services.analytics.projecting.snapshots import SnapshotPolicy
from shared.bus import all_event_topics, ensure_topics
from shared.logging import get_logger
from shared.settings import ServiceSettings
from shared.waiting import until_any

log = get_logger(__name__)

LIVE_PROJECTOR_LOCK = 7_240_200
"""Advisory lock held by the one replica projecting the live generation; the others stand by.

Two projectors on one generation would each move the checkpoints (one could move them back) and
contend for the same rows, so replicas of analytics share the reads but only one writes."""


SNAPSHOT_SWEEP_SECONDS = 60
"""How often the live projector drops expired snapshots (reads refuse an expired one at once)."""


class Runtime(Protocol):
    """What the live projector needs of the service's runtime (a ``ServiceRuntime`` once it runs)."""

    pool: asyncpg.Pool
    settings: ServiceSettings


def live_projector(policy: SnapshotPolicy) -> Callable[[Runtime, asyncio.Event], Awaitable[None]]:
    """The service's background task: ``project_live`` with the snapshot policy."""

    async def project_live_generation(runtime: Runtime, stop: asyncio.Event) -> None:
        await project_live(runtime, stop, policy)

    return project_live_generation


async def project_live(runtime: Runtime, stop: asyncio.Event, policy: SnapshotPolicy | None = None) -> None:
    """Keep the live generation current; a failed round (broker or database away) is retried."""
    policy = policy or SnapshotPolicy()
    while not stop.is_set():
        try:
            async with runtime.pool.acquire() as holder:
                if await holder.fetchval("SELECT pg_try_advisory_lock($1)", LIVE_PROJECTOR_LOCK):
                    try:
                        await _project_generations(runtime, stop, policy)
                    finally:
                        await holder.execute("SELECT pg_advisory_unlock($1)", LIVE_PROJECTOR_LOCK)
                    continue
        except Exception as exc:
            log.warning("projector stopped; restarting", error=repr(exc))
        await until_any(stop, seconds=1)


async def _project_generations(runtime: Runtime, stop: asyncio.Event, policy: SnapshotPolicy) -> None:
    """Project into the live generation, and into the next one after a replay swaps it in."""
    settings = runtime.settings
    topics = all_event_topics()
    while not stop.is_set():
        await ensure_topics(settings, topics, settings.topic_partitions, max_event_bytes=settings.max_event_bytes)
        generation = await ensure_live(runtime.pool)
        if await generation_shape(runtime.pool, generation) != SHAPE:
            await _rebuild_outdated(runtime, generation, topics, stop)
            continue
        swapped = asyncio.Event()
        watcher = asyncio.create_task(_until_swapped(runtime, generation, stop, swapped, policy))
        try:
            await Projector(runtime.pool, settings, generation, topics, erase_elsewhere=True).run(swapped)
        finally:
            watcher.cancel()


async def _rebuild_outdated(runtime: Runtime, outdated: int, topics: list[str], stop: asyncio.Event) -> None:
    """The live generation was built by another version of the projections (after an upgrade): build a
    new one from the beginning of every topic and swap it in. Reads answer 503 until then."""
    log.warning("live projections were built by another version; rebuilding", generation=outdated, shape=SHAPE)
    async with runtime.pool.acquire() as conn:
        generation = await create_generation(conn, defer_indexes=True)
    projector = Projector(runtime.pool, runtime.settings, generation, topics, prepare_in="process")
    await projector.run(stop, until_caught_up=True)
    if stop.is_set():
        return  # a later start builds again; this generation stays 'building' and is never served
    async with runtime.pool.acquire() as conn:
        await build_indexes(conn, generation, runtime.pool)
        await make_live(conn, generation)
    log.info("rebuilt projections are live", generation=generation, events=projector.progress.applied)


async def _until_swapped(
    runtime: Runtime, generation: int, stop: asyncio.Event, swapped: asyncio.Event, policy: SnapshotPolicy
) -> None:
    """Sets ``swapped`` when the service stops or a replay made another generation live; meanwhile drops
    the snapshots past their expiry (``snapshots``), once a minute."""
    seconds = 0
    while not stop.is_set() and await live_generation(runtime.pool) == generation:
        if seconds % SNAPSHOT_SWEEP_SECONDS == 0:
            try:
                await snapshots.drop_expired(runtime.pool, policy)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("expired snapshots not dropped; trying again", error=repr(exc))
        await until_any(stop, seconds=1)
        seconds += 1
    swapped.set()
