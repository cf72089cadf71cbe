"""Record delivery intents, one per (cause, recipient, channel), in the consumer's transaction.

Nothing is sent here: a redelivered event finds its intents already recorded
(the unique cause key) and adds none.  The delivery worker is woken on commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.notifications.application.deps import WAKE_CHANNEL, Deps
from services.notifications.domain.audience import Notice
from services.notifications.domain.causes import notification_id
from services.notifications.domain.reminders import next_digest_at
from shared import timers

DIGEST = "digest"


async def record(conn: asyncpg.Connection, deps: Deps, cause_id: str, notices: Sequence[Notice]) -> int:
    recorded = 0
    now = deps.clock.now()
    for notice in notices:
        if await conn.fetchval("SELECT true FROM erased_participants WHERE participant_id = $1", notice.recipient_id):
            continue
        channels, digest = await preferences_of(conn, deps, notice.recipient_id)
        for channel in channels:
            if channel not in deps.channels_available:
                continue
            inserted = await record_intent(conn, cause_id, notice, channel, "held" if digest else "pending", now)
            recorded += bool(inserted)
            if inserted and digest:
                due = next_digest_at(now, deps.options.digest_hour_utc)
                await timers.schedule(conn, f"digest:{notice.recipient_id}:{due.date()}", DIGEST, notice.recipient_id, due)
    if recorded:
        await wake_worker(conn)
    return recorded


async def record_intent(
    conn: asyncpg.Connection, cause_id: str, notice: Notice, channel: str, status: str, now: datetime
) -> bool:
    return bool(await conn.fetchval(
        "INSERT INTO intents (notification_id, cause_id, recipient_id, channel, template, context, status, due_at)"
        " VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8) ON CONFLICT DO NOTHING RETURNING true",
        notification_id(cause_id, notice.recipient_id, channel), cause_id, notice.recipient_id, channel,
        notice.template, json.dumps(notice.context, default=str), status, now,
    ))


async def wake_worker(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)


async def preferences_of(conn: asyncpg.Connection, deps: Deps, participant_id: str) -> tuple[list[str], bool]:
    row = await conn.fetchrow("SELECT channels, digest FROM preferences WHERE participant_id = $1", participant_id)
    if row is None:
        return list(deps.options.default_channels), False
    return list(row["channels"]), row["digest"]
