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


# One statement per cause: every candidate intent (a notice on each channel the service offers) is
# kept if its recipient is not erased and chose that channel (no saved preferences: the defaults);
# a digest reader's intents are held; the worker is woken if anything was recorded.
_RECORD = """
WITH candidate AS (
    SELECT c.id, c.recipient, c.channel, c.template, c.context,
           coalesce(p.digest, false) AS digest
    FROM unnest($1::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS c(id, recipient, channel, template, context)
    LEFT JOIN preferences p ON p.participant_id = c.recipient
    WHERE c.channel = ANY(coalesce(p.channels, $8::text[]))
      AND NOT EXISTS (SELECT 1 FROM erased_participants e WHERE e.participant_id = c.recipient)
), inserted AS (
    INSERT INTO intents (notification_id, cause_id, recipient_id, channel, template, context, status, due_at)
    SELECT id, $2, recipient, channel, template, context::jsonb,
           CASE WHEN digest THEN 'held' ELSE 'pending' END, $3
    FROM candidate
    ON CONFLICT DO NOTHING
    RETURNING recipient_id, status
)
SELECT recipient_id, status, (SELECT count(pg_notify($9, '')) FROM (SELECT 1 FROM inserted LIMIT 1) woke) AS woke
FROM inserted
"""


async def record(conn: asyncpg.Connection, deps: Deps, cause_id: str, notices: Sequence[Notice]) -> int:
    """All of a cause's intents in one statement: this runs in the consumer's transaction for every
    event, so its round trips to the database set the pace of the consumer."""
    candidates: dict[object, tuple[str, str, str, str]] = {}
    for notice in notices:
        context = json.dumps(notice.context, default=str)
        for channel in sorted(deps.channels_available):
            candidates.setdefault(
                notification_id(cause_id, notice.recipient_id, channel),
                (notice.recipient_id, channel, notice.template, context),
            )
    if not candidates:
        return 0
    now = deps.clock.now()
    recipients, channels, templates, contexts = (list(column) for column in zip(*candidates.values(), strict=False))
    inserted = await conn.fetch(
        _RECORD,
        list(candidates),
        cause_id,
        now,
        recipients,
        channels,
        templates,
        contexts,
        list(deps.options.default_channels),
        WAKE_CHANNEL,
    )
    for recipient in dict.fromkeys(r["recipient_id"] for r in inserted if r["status"] == "held"):
        due = next_digest_at(now, deps.options.digest_hour_utc)
        await timers.schedule(conn, f"digest:{recipient}:{due.date()}", DIGEST, recipient, due)
    return len(inserted)


async def record_intent(
    conn: asyncpg.Connection, cause_id: str, notice: Notice, channel: str, status: str, now: datetime
) -> bool:
    return bool(
        await conn.fetchval(
            "INSERT INTO intents (notification_id, cause_id, recipient_id, channel, template, context, status, due_at)"
            " VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8) ON CONFLICT DO NOTHING RETURNING true",
            notification_id(cause_id, notice.recipient_id, channel),
            cause_id,
            notice.recipient_id,
            channel,
            notice.template,
            json.dumps(notice.context, default=str),
            status,
            now,
        )
    )


async def wake_worker(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)


async def preferences_of(conn: asyncpg.Connection, deps: Deps, participant_id: str) -> tuple[list[str], bool]:
    row = await conn.fetchrow("SELECT channels, digest FROM preferences WHERE participant_id = $1", participant_id)
    if row is None:
        return list(deps.options.default_channels), False
    return list(row["channels"]), row["digest"]
