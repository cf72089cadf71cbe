"""As-of snapshots are kept few and not for long: a cap on how many, an expiry, and nothing unservable kept.

A snapshot is a whole copy of the projections as they stood at a moment, so each is one more place that
holds what the projections hold of people. ``SnapshotPolicy`` (``MENTORSHIP_ANALYTICS_MAX_SNAPSHOTS``,
``_SNAPSHOT_DAYS``) bounds them: a new as-of replay is refused while the cap is reached
(``SnapshotLimitReached``, HTTP 409 naming the limit); a snapshot older than the expiry is dropped, and so is
one built by another version (it could never be served again, and may hold what an older version kept).
Erasure reaches every snapshot (``erasure``); dropping one takes the same lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from services.analytics.generation_names import schema_name
from services.analytics.projecting.erasure import SNAPSHOT_LOCK
from services.analytics.projecting.generations import SHAPE
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class SnapshotPolicy:
    limit: int = 3
    """How many as-of snapshots may exist at once (``MENTORSHIP_ANALYTICS_MAX_SNAPSHOTS``)."""
    days: int = 30
    """Days a snapshot is kept after it was started (``MENTORSHIP_ANALYTICS_SNAPSHOT_DAYS``)."""


class SnapshotLimitReached(Exception):
    """A new as-of snapshot would pass the cap (HTTP 409)."""


async def drop_expired(pool: asyncpg.Pool, policy: SnapshotPolicy) -> list[int]:
    """Drop the snapshots past their expiry or of another shape; returns their generations."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SNAPSHOT_LOCK)
        dropped = await conn.fetch(
            "UPDATE projection_generations SET state = 'retired'"
            " WHERE state = 'snapshot'"
            " AND (created_at <= now() - make_interval(days => $1) OR shape IS DISTINCT FROM $2)"
            " RETURNING generation",
            policy.days,
            SHAPE,
        )
        for row in dropped:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema_name(row['generation'])} CASCADE")
    generations = sorted(row["generation"] for row in dropped)
    if generations:
        log.info("as-of snapshots dropped (expired or of another version)", generations=generations)
    return generations


async def drop_abandoned_builds(conn: asyncpg.Connection) -> None:
    """Drop as-of builds that never finished (their replay failed or was killed). Only with the replay
    lock held: then no as-of build is under way."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SNAPSHOT_LOCK)
        abandoned = await conn.fetch(
            "UPDATE projection_generations SET state = 'retired'"
            " WHERE state = 'building' AND as_of IS NOT NULL RETURNING generation"
        )
        for row in abandoned:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema_name(row['generation'])} CASCADE")


async def check_room(conn: asyncpg.Connection, policy: SnapshotPolicy) -> None:
    """Refuse a new as-of snapshot when ``policy.limit`` of them exist already."""
    existing = await conn.fetch(
        "SELECT generation, created_at FROM projection_generations WHERE state = 'snapshot' ORDER BY created_at"
    )
    if len(existing) >= policy.limit:
        if policy.limit == 0:
            raise SnapshotLimitReached("as-of snapshots are turned off (MENTORSHIP_ANALYTICS_MAX_SNAPSHOTS=0)")
        oldest = existing[0]
        raise SnapshotLimitReached(
            f"at most {policy.limit} as-of snapshots are kept (MENTORSHIP_ANALYTICS_MAX_SNAPSHOTS) and"
            f" {len(existing)} exist; the oldest, generation {oldest['generation']}, expires at"
            f" {(oldest['created_at'] + timedelta(days=policy.days)).isoformat(timespec='seconds')}"
            f" ({policy.days} days after it was started, MENTORSHIP_ANALYTICS_SNAPSHOT_DAYS)"
        )
