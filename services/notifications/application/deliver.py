"""The delivery worker: sends recorded intents outside any consumer transaction.

Per intent: claim it (``sending``, attempts + 1, claim time) and commit; render
and send; then record ``sent`` with ``NotificationSent`` in one transaction.  A
failure schedules a retry on a durable timer with back-off, or after the last
attempt records ``failed`` with ``NotificationFailed``.

Crash between the receiver's acceptance and our record: the intent stays
``sending``.  Once its claim is older than the lease, ``recover_lapsed`` sends
it again, with the same Message-ID, at most ``MAX_CRASH_RESENDS`` times; after
that its outcome is ``unknown`` (NotificationFailed) and it is never sent again.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import asyncpg

from services.notifications.adapters.templates import Templates
from services.notifications.application.deps import WAKE_CHANNEL, Deps
from services.notifications.application.record_notices import wake_worker
from services.notifications.domain.causes import message_id
from services.notifications.domain.outgoing import Channel, Outgoing
from services.notifications.domain.retry import MAX_CRASH_RESENDS
from shared import timers
from shared.events.notifications import NotificationFailed, NotificationSent
from shared.logging import get_logger
from shared.timers import Timer

log = get_logger(__name__)

DELIVERY_RETRY = "delivery-retry"
PERSON_KEYS = {"mentee_id", "mentor_id", "other_id"}
PEOPLE_KEYS = {"mentee_ids", "ranked_mentor_ids", "tried_mentor_ids"}

_CLAIM = """
UPDATE intents i SET status = 'sending', attempts = i.attempts + 1, claimed_at = $1
FROM (SELECT notification_id FROM intents WHERE status = 'pending' AND due_at <= $1
      ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
WHERE i.notification_id = due.notification_id
RETURNING i.notification_id, i.cause_id, i.recipient_id, i.channel, i.template, i.context::text AS context, i.attempts
"""


class DeliveryWorker:
    def __init__(self, pool: asyncpg.Pool, deps: Deps, channels: dict[str, Channel], templates: Templates) -> None:
        self.pool, self.deps, self.channels, self.templates = pool, deps, channels, templates
        self._wake = asyncio.Event()
        self._stopping = False

    async def run(self) -> None:
        async with self.pool.acquire() as listener:
            await listener.add_listener(WAKE_CHANNEL, self._on_wake)
            try:
                while not self._stopping:
                    self._wake.clear()
                    try:
                        await self.recover_lapsed()
                        await self.deliver_due()
                    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                        log.warning("delivery round failed; retrying", error=repr(exc))
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=self.deps.options.delivery_poll_seconds)
                    except TimeoutError:
                        pass
            finally:
                await listener.remove_listener(WAKE_CHANNEL, self._on_wake)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _on_wake(self, *_: object) -> None:
        self._wake.set()

    async def deliver_due(self) -> int:
        delivered = 0
        while not self._stopping:
            async with self.pool.acquire() as conn:
                claimed = await conn.fetch(_CLAIM, self.deps.clock.now(), self.deps.options.delivery_concurrency)
            if not claimed:
                return delivered
            await asyncio.gather(*(self._deliver(row) for row in claimed))
            delivered += len(claimed)
        return delivered

    async def _deliver(self, row: asyncpg.Record) -> None:
        try:
            outgoing = await self._compose(row)
            await self.channels[row["channel"]].send(outgoing)
        except Exception as exc:  # noqa: BLE001 - every failure of one message is that message's retry
            await self._failed(row, exc)
            return
        await self._sent(row)

    async def _compose(self, row: asyncpg.Record) -> Outgoing:
        recipient = row["recipient_id"]
        context = json.loads(row["context"])
        async with self.pool.acquire() as conn:
            if row["template"] == "digest":
                context["items"] = [await self._digest_item(conn, recipient, item) for item in context["items"]]
            people = await self._people(conn, recipient, context)
        rendered = self.templates.render(row["template"], _with_people(context, people, recipient))
        who = people[recipient]
        return Outgoing(
            notification_id=row["notification_id"], message_id=message_id(row["notification_id"], self.deps.options.message_id_domain),
            cause_id=row["cause_id"], recipient_id=recipient, name=who["name"], email=who["email"],
            template=row["template"], subject=rendered.subject, text=rendered.text, html=rendered.html,
        )

    async def _digest_item(self, conn: asyncpg.Connection, recipient: str, item: str) -> dict[str, str]:
        row = await conn.fetchrow("SELECT template, context::text AS context FROM intents WHERE notification_id = $1",
                                  uuid.UUID(item))
        context = json.loads(row["context"])
        people = await self._people(conn, recipient, context)
        rendered = self.templates.render(row["template"], _with_people(context, people, recipient))
        return {"subject": rendered.subject, "text": rendered.text}

    async def _people(self, conn: asyncpg.Connection, recipient: str, context: dict[str, Any]) -> dict[str, dict]:
        ids = {recipient}
        for key, value in context.items():
            if key in PERSON_KEYS and value:
                ids.add(value)
            elif key in PEOPLE_KEYS:
                ids.update(value)
        rows = await conn.fetch("SELECT participant_id, name, email FROM contacts WHERE participant_id = ANY($1)", list(ids))
        known = {r["participant_id"]: {"name": r["name"], "email": r["email"]} for r in rows}
        directors = set(self.deps.options.director_emails)
        return {
            pid: known.get(pid) or ({"name": "Program director", "email": pid} if pid in directors
                                    else {"name": "a participant", "email": None})
            for pid in ids
        }

    async def _sent(self, row: asyncpg.Record) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            attempts = await conn.fetchval(
                "UPDATE intents SET status = 'sent', sent_at = $2, claimed_at = NULL"
                " WHERE notification_id = $1 AND status = 'sending' RETURNING attempts",
                row["notification_id"], self.deps.clock.now(),
            )
            if attempts is not None:
                await self._publish(conn, row, NotificationSent, attempts=attempts)

    async def _failed(self, row: asyncpg.Record, error: Exception) -> None:
        nid, attempts = row["notification_id"], row["attempts"]
        delay = self.deps.retry.next_delay(attempts)
        log.warning("delivery failed", notification_id=str(nid), attempts=attempts, error=repr(error), give_up=delay is None)
        async with self.pool.acquire() as conn, conn.transaction():
            status = "retrying" if delay is not None else "failed"
            updated = await conn.fetchval(
                "UPDATE intents SET status = $2, last_error = $3, claimed_at = NULL"
                " WHERE notification_id = $1 AND status = 'sending' RETURNING true",
                nid, status, repr(error)[:2000],
            )
            if not updated:
                return
            if delay is not None:
                await timers.schedule(conn, f"{DELIVERY_RETRY}:{nid}", DELIVERY_RETRY, str(nid), self.deps.clock.now() + delay)
            else:
                await self._publish(conn, row, NotificationFailed, attempts=attempts, error=repr(error)[:2000])

    async def recover_lapsed(self) -> int:
        """Apply the crash rule to claims older than the lease; returns how many intents it touched."""
        now = self.deps.clock.now()
        cutoff = now - timedelta(seconds=self.deps.options.claim_lease_seconds)
        async with self.pool.acquire() as conn, conn.transaction():
            resent = await conn.fetch(
                "UPDATE intents SET status = 'pending', crash_resends = crash_resends + 1, due_at = $1, claimed_at = NULL"
                " WHERE status = 'sending' AND claimed_at < $2 AND crash_resends < $3 RETURNING notification_id",
                now, cutoff, MAX_CRASH_RESENDS,
            )
            unknown = await conn.fetch(
                "UPDATE intents SET status = 'unknown', claimed_at = NULL, last_error = 'outcome unknown after a crash'"
                " WHERE status = 'sending' AND claimed_at < $1"
                " RETURNING notification_id, cause_id, recipient_id, channel, template, attempts",
                cutoff,
            )
            for row in unknown:
                await self._publish(conn, row, NotificationFailed, attempts=row["attempts"], error=(
                    f"outcome unknown: the sender stopped after handing the message over {row['attempts']} times;"
                    " not sent again"))
            if resent:
                await wake_worker(conn)
        if resent or unknown:
            log.warning("lapsed deliveries recovered", resent=len(resent), unknown=len(unknown))
        return len(resent) + len(unknown)

    async def _publish(self, conn: asyncpg.Connection, row: asyncpg.Record, event_type: type, **fields: Any) -> None:
        event = event_type(
            notification_id=str(row["notification_id"]), cause_event_id=row["cause_id"],
            recipient_id=row["recipient_id"], channel=row["channel"], template=row["template"], **fields,
        )
        await self.deps.store.append(conn, str(row["notification_id"]), 0, [event])


def _with_people(context: dict[str, Any], people: dict[str, dict], recipient: str) -> dict[str, Any]:
    enriched = dict(context, recipient=people[recipient])
    for key, value in context.items():
        if key in PERSON_KEYS and value:
            enriched[key.removesuffix("_id")] = people[value]
        elif key in PEOPLE_KEYS:
            enriched[key.removesuffix("_ids") + "s"] = [people[v] for v in value]
    return enriched


def retry_handler(deps: Deps):
    async def on_retry_due(conn: asyncpg.Connection, timer: Timer) -> None:
        await conn.execute(
            "UPDATE intents SET status = 'pending', due_at = $2 WHERE notification_id = $1 AND status = 'retrying'",
            uuid.UUID(timer.subject), deps.clock.now(),
        )
        await wake_worker(conn)

    return on_retry_due
