"""Delivery intents (``intents``): recorded per cause, claimed in batches, their outcomes recorded.

The delivery worker LISTENs on ``WAKE_CHANNEL``; a transaction that records or re-queues an intent
NOTIFYs it, which Postgres delivers on commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.notifications.application.ports import Candidate, Claimed, Held, Recorded

WAKE_CHANNEL = "notification_intents"

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

_CLAIM = """
UPDATE intents i SET status = 'sending', attempts = i.attempts + 1, claimed_at = $1
FROM (SELECT notification_id FROM intents WHERE status = 'pending' AND due_at <= $1
      ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
WHERE i.notification_id = due.notification_id
RETURNING i.notification_id, i.cause_id, i.recipient_id, i.channel, i.template, i.context::text AS context, i.attempts
"""

_UNKNOWN = "outcome unknown after a crash"


class PostgresIntents:
    async def record(
        self,
        conn: asyncpg.Connection,
        cause_id: str,
        candidates: Sequence[Candidate],
        now: datetime,
        default_channels: Sequence[str],
    ) -> list[Recorded]:
        contexts: dict[int, str] = {}  # a notice's context is written once for all its channels
        for candidate in candidates:
            if id(candidate.notice) not in contexts:
                contexts[id(candidate.notice)] = _json(candidate.notice.context)
        inserted = await conn.fetch(
            _RECORD,
            [c.notification_id for c in candidates],
            cause_id,
            now,
            [c.notice.recipient_id for c in candidates],
            [c.channel for c in candidates],
            [c.notice.template for c in candidates],
            [contexts[id(c.notice)] for c in candidates],
            list(default_channels),
            WAKE_CHANNEL,
        )
        return [Recorded(r["recipient_id"], r["status"]) for r in inserted]

    async def add(
        self, conn: asyncpg.Connection, cause_id: str, candidate: Candidate, status: str, now: datetime
    ) -> bool:
        return bool(
            await conn.fetchval(
                "INSERT INTO intents"
                " (notification_id, cause_id, recipient_id, channel, template, context, status, due_at)"
                " VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8) ON CONFLICT DO NOTHING RETURNING true",
                candidate.notification_id,
                cause_id,
                candidate.notice.recipient_id,
                candidate.channel,
                candidate.notice.template,
                _json(candidate.notice.context),
                status,
                now,
            )
        )

    async def wake_worker(self, conn: asyncpg.Connection) -> None:
        await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)

    async def claim(self, conn: asyncpg.Connection, now: datetime, limit: int) -> list[Claimed]:
        return [_claimed(row, json.loads(row["context"])) for row in await conn.fetch(_CLAIM, now, limit)]

    async def contents(
        self, conn: asyncpg.Connection, notification_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, Claimed]:
        rows = await conn.fetch(
            "SELECT notification_id, cause_id, recipient_id, channel, template, attempts, context::text AS context"
            " FROM intents WHERE notification_id = ANY($1::uuid[])",
            list(notification_ids),
        )
        return {row["notification_id"]: _claimed(row, json.loads(row["context"])) for row in rows}

    async def bundle_held(self, conn: asyncpg.Connection, recipient_id: str, due_by: datetime) -> list[Held]:
        rows = await conn.fetch(
            "UPDATE intents SET status = 'bundled' WHERE recipient_id = $1 AND status = 'held' AND due_at <= $2"
            " RETURNING notification_id, channel, due_at",
            recipient_id,
            due_by,
        )
        return [Held(r["notification_id"], r["channel"], r["due_at"]) for r in rows]

    async def mark_sent(
        self, conn: asyncpg.Connection, notification_ids: Sequence[uuid.UUID], now: datetime
    ) -> dict[uuid.UUID, int]:
        rows = await conn.fetch(
            "UPDATE intents SET status = 'sent', sent_at = $2, claimed_at = NULL"
            " WHERE notification_id = ANY($1::uuid[]) AND status = 'sending' RETURNING notification_id, attempts",
            list(notification_ids),
            now,
        )
        return {r["notification_id"]: r["attempts"] for r in rows}

    async def mark_failed_sending(
        self, conn: asyncpg.Connection, notification_id: uuid.UUID, status: str, error: str
    ) -> bool:
        return bool(
            await conn.fetchval(
                "UPDATE intents SET status = $2, last_error = $3, claimed_at = NULL"
                " WHERE notification_id = $1 AND status = 'sending' RETURNING true",
                notification_id,
                status,
                error,
            )
        )

    async def resend_lapsed_sending(
        self, conn: asyncpg.Connection, now: datetime, claimed_before: datetime, max_resends: int
    ) -> int:
        rows = await conn.fetch(
            "UPDATE intents SET status = 'pending', crash_resends = crash_resends + 1, due_at = $1, claimed_at = NULL"
            " WHERE status = 'sending' AND claimed_at < $2 AND crash_resends < $3 RETURNING notification_id",
            now,
            claimed_before,
            max_resends,
        )
        return len(rows)

    async def give_up_lapsed_sending(self, conn: asyncpg.Connection, claimed_before: datetime) -> list[Claimed]:
        rows = await conn.fetch(
            "UPDATE intents SET status = 'unknown', claimed_at = NULL, last_error = $2"
            " WHERE status = 'sending' AND claimed_at < $1"
            " RETURNING notification_id, cause_id, recipient_id, channel, template, attempts",
            claimed_before,
            _UNKNOWN,
        )
        return [_claimed(row, {}) for row in rows]

    async def retry(self, conn: asyncpg.Connection, notification_id: uuid.UUID, now: datetime) -> None:
        await conn.execute(
            "UPDATE intents SET status = 'pending', due_at = $2 WHERE notification_id = $1 AND status = 'retrying'",
            notification_id,
            now,
        )

    async def cancel_for(self, conn: asyncpg.Connection, recipient_id: str) -> None:
        await conn.execute(
            "UPDATE intents SET status = 'cancelled'"
            " WHERE recipient_id = $1 AND status IN ('held', 'pending', 'retrying')",
            recipient_id,
        )
        await conn.execute(  # whatever its status: a sent message's context and error are theirs as well
            "UPDATE intents SET context = '{}'::jsonb, last_error = NULL"
            " WHERE recipient_id = $1 AND (context <> '{}'::jsonb OR last_error IS NOT NULL)",
            recipient_id,
        )

    async def strip_mentee(self, conn: asyncpg.Connection, mentee_id: str) -> None:
        await conn.execute(
            f"UPDATE intents SET context = context - {_PERSONAL_KEYS}"
            f" WHERE context->>'mentee_id' = $1 AND context ?| {_PERSONAL_KEYS}",
            mentee_id,
        )


_PERSONAL_KEYS = "ARRAY['biography', 'motivation', 'reason']::text[]"
"""The context keys that quote a mentee's personal text (request biography, motivation, a decline reason)."""


def _claimed(row: asyncpg.Record, context: dict[str, Any]) -> Claimed:
    return Claimed(
        notification_id=row["notification_id"],
        cause_id=row["cause_id"],
        recipient_id=row["recipient_id"],
        channel=row["channel"],
        template=row["template"],
        attempts=row["attempts"],
        context=context,
    )


def _json(context: dict[str, Any]) -> str:
    return json.dumps(context, default=str)
