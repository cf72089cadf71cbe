"""The delivery worker: sends recorded intents outside any consumer transaction.

A batch at a time (up to ``delivery_concurrency`` intents): claim them
(``sending``, attempts + 1, claim time) and commit; render them all (one
contacts query for the batch) and send them concurrently; then record the
batch's outcomes in one transaction: ``sent`` with ``NotificationSent``, or for
a failure a retry on a durable timer with back-off, or after the last attempt
``failed`` with ``NotificationFailed``.  Batching keeps the commits (each one
waits for the disk) and round trips per message low, which is what lets the
worker keep up at hundreds of messages a second.

Crash between the receiver's acceptance and our record: the intent stays
``sending``.  Once its claim is older than the lease, ``recover_lapsed`` sends
it again, with the same Message-ID, at most ``MAX_CRASH_RESENDS`` times; after
that its outcome is ``unknown`` (NotificationFailed) and it is never sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
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
        """Claim batches as intents come due and keep up to ``delivery_batches`` of them in flight, so
        a new intent is claimed (and its message on its way) while earlier batches are still sending
        or being recorded; woken by the consumer's NOTIFY, and polling as a fallback."""
        slots = asyncio.Semaphore(self.deps.options.delivery_batches)
        in_flight: set[asyncio.Task[None]] = set()
        async with self.pool.acquire() as listener:
            await listener.add_listener(WAKE_CHANNEL, self._on_wake)
            poll = self.deps.options.delivery_poll_seconds
            recovered_at = float("-inf")
            try:
                while not self._stopping:
                    self._wake.clear()
                    backlog = False
                    try:
                        if time.monotonic() - recovered_at >= poll:
                            # Leases run for minutes: looking for lapsed claims once per poll is plenty,
                            # and a wake-up (a new intent) need not wait for that transaction.
                            await self.recover_lapsed()
                            recovered_at = time.monotonic()
                        while not self._stopping:
                            if time.monotonic() - recovered_at >= poll:
                                backlog = True  # still claiming after a poll interval: check the leases first
                                break
                            await slots.acquire()
                            try:
                                batch = await self._claim()
                            except BaseException:
                                slots.release()
                                raise
                            if not batch:
                                slots.release()
                                break
                            task = asyncio.create_task(self._finish(*batch), name="delivery-batch")
                            in_flight.add(task)
                            task.add_done_callback(lambda t: (in_flight.discard(t), slots.release(), _log_failure(t)))
                    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                        log.warning("delivery round failed; retrying", error=repr(exc))
                    if backlog:
                        continue
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=poll)
            finally:
                if in_flight:
                    await asyncio.wait(in_flight)
                await listener.remove_listener(WAKE_CHANNEL, self._on_wake)

    async def close(self) -> None:
        """Release what the channels hold open (pooled SMTP sessions)."""
        for channel in self.channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                await close()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _on_wake(self, *_: object) -> None:
        self._wake.set()

    async def deliver_due(self) -> int:
        """Deliver every due intent, one claimed batch after another; returns how many were claimed."""
        delivered = 0
        while not self._stopping:
            batch = await self._claim()
            if not batch:
                return delivered
            await self._finish(*batch)
            delivered += len(batch[0])
        return delivered

    async def _claim(self) -> tuple[list[asyncpg.Record], dict[uuid.UUID, Outgoing | Exception]] | None:
        """Claim up to ``delivery_concurrency`` due intents (committed before anything is sent) and render them."""
        async with self.pool.acquire() as conn:
            claimed = await conn.fetch(_CLAIM, self.deps.clock.now(), self.deps.options.delivery_concurrency)
            if not claimed:
                return None
            return claimed, await self._compose_all(conn, claimed)

    async def _finish(self, claimed: list[asyncpg.Record], composed: dict[uuid.UUID, Outgoing | Exception]) -> None:
        outcomes = await asyncio.gather(*(self._send(row, composed[row["notification_id"]]) for row in claimed))
        await self._record(claimed, outcomes)

    async def _send(self, row: asyncpg.Record, outgoing: Outgoing | Exception) -> Exception | None:
        """``None`` once the receiver accepted the message, else the error (this message's retry)."""
        if isinstance(outgoing, Exception):
            return outgoing
        try:
            await self.channels[row["channel"]].send(outgoing)
        except Exception as exc:
            return exc
        return None

    async def _compose_all(
        self, conn: asyncpg.Connection, rows: list[asyncpg.Record]
    ) -> dict[uuid.UUID, Outgoing | Exception]:
        """Render a claimed batch; the contacts of everyone in it come in one query."""
        contexts = {row["notification_id"]: json.loads(row["context"]) for row in rows}
        people = await self._people(
            conn, set().union(*(_people_ids(row["recipient_id"], contexts[row["notification_id"]]) for row in rows))
        )
        composed: dict[uuid.UUID, Outgoing | Exception] = {}
        for row in rows:
            try:
                composed[row["notification_id"]] = await self._compose(
                    conn, row, contexts[row["notification_id"]], people
                )
            except Exception as exc:
                composed[row["notification_id"]] = exc
        return composed

    async def _compose(
        self, conn: asyncpg.Connection, row: asyncpg.Record, context: dict[str, Any], people: dict[str, dict]
    ) -> Outgoing:
        recipient = row["recipient_id"]
        if row["template"] == "digest":
            context["items"] = [await self._digest_item(conn, recipient, item) for item in context["items"]]
        rendered = self.templates.render(row["template"], _with_people(context, people, recipient))
        who = people[recipient]
        return Outgoing(
            notification_id=row["notification_id"],
            message_id=message_id(row["notification_id"], self.deps.options.message_id_domain),
            cause_id=row["cause_id"],
            recipient_id=recipient,
            name=who["name"],
            email=who["email"],
            template=row["template"],
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )

    async def _digest_item(self, conn: asyncpg.Connection, recipient: str, item: str) -> dict[str, str]:
        row = await conn.fetchrow(
            "SELECT template, context::text AS context FROM intents WHERE notification_id = $1", uuid.UUID(item)
        )
        context = json.loads(row["context"])
        people = await self._people(conn, _people_ids(recipient, context))
        rendered = self.templates.render(row["template"], _with_people(context, people, recipient))
        return {"subject": rendered.subject, "text": rendered.text}

    async def _people(self, conn: asyncpg.Connection, ids: set[str]) -> dict[str, dict]:
        rows = await conn.fetch(
            "SELECT participant_id, name, email FROM contacts WHERE participant_id = ANY($1)", list(ids)
        )
        known = {r["participant_id"]: {"name": r["name"], "email": r["email"]} for r in rows}
        directors = set(self.deps.options.director_emails)
        return {
            pid: known.get(pid)
            or (
                {"name": "Program director", "email": pid}
                if pid in directors
                else {"name": "a participant", "email": None}
            )
            for pid in ids
        }

    async def _record(self, rows: list[asyncpg.Record], outcomes: list[Exception | None]) -> None:
        """The outcome of a whole batch in one transaction: ``sent`` + NotificationSent, or the failure rule."""
        failed = [(row, error) for row, error in zip(rows, outcomes, strict=False) if error is not None]
        for row, error in failed:
            log.warning(
                "delivery failed",
                notification_id=str(row["notification_id"]),
                attempts=row["attempts"],
                error=repr(error),
                give_up=self.deps.retry.next_delay(row["attempts"]) is None,
            )
        by_id = {row["notification_id"]: row for row in rows}
        async with self.pool.acquire() as conn, conn.transaction():
            sent = await conn.fetch(
                "UPDATE intents SET status = 'sent', sent_at = $2, claimed_at = NULL"
                " WHERE notification_id = ANY($1::uuid[]) AND status = 'sending' RETURNING notification_id, attempts",
                [row["notification_id"] for row, error in zip(rows, outcomes, strict=False) if error is None],
                self.deps.clock.now(),
            )
            await self.deps.store.start_streams(
                conn,
                [
                    (
                        str(done["notification_id"]),
                        _outcome(by_id[done["notification_id"]], NotificationSent, attempts=done["attempts"]),
                    )
                    for done in sent
                ],
            )
            for row, error in failed:
                await self._failed(conn, row, error)

    async def _failed(self, conn: asyncpg.Connection, row: asyncpg.Record, error: Exception) -> None:
        nid, attempts = row["notification_id"], row["attempts"]
        delay = self.deps.retry.next_delay(attempts)
        status = "retrying" if delay is not None else "failed"
        updated = await conn.fetchval(
            "UPDATE intents SET status = $2, last_error = $3, claimed_at = NULL"
            " WHERE notification_id = $1 AND status = 'sending' RETURNING true",
            nid,
            status,
            repr(error)[:2000],
        )
        if not updated:
            return
        if delay is not None:
            await timers.schedule(
                conn, f"{DELIVERY_RETRY}:{nid}", DELIVERY_RETRY, str(nid), self.deps.clock.now() + delay
            )
        else:
            await self._publish(conn, row, NotificationFailed, attempts=attempts, error=repr(error)[:2000])

    async def recover_lapsed(self) -> int:
        """Apply the crash rule to claims older than the lease; returns how many intents it touched."""
        now = self.deps.clock.now()
        cutoff = now - timedelta(seconds=self.deps.options.claim_lease_seconds)
        async with self.pool.acquire() as conn, conn.transaction():
            resent = await conn.fetch(
                "UPDATE intents SET status = 'pending', crash_resends = crash_resends + 1, due_at = $1,"
                " claimed_at = NULL"
                " WHERE status = 'sending' AND claimed_at < $2 AND crash_resends < $3 RETURNING notification_id",
                now,
                cutoff,
                MAX_CRASH_RESENDS,
            )
            unknown = await conn.fetch(
                "UPDATE intents SET status = 'unknown', claimed_at = NULL, last_error = 'outcome unknown after a crash'"
                " WHERE status = 'sending' AND claimed_at < $1"
                " RETURNING notification_id, cause_id, recipient_id, channel, template, attempts",
                cutoff,
            )
            for row in unknown:
                await self._publish(
                    conn,
                    row,
                    NotificationFailed,
                    attempts=row["attempts"],
                    error=(
                        f"outcome unknown: the sender stopped after handing the message over {row['attempts']} times;"
                        " not sent again"
                    ),
                )
            if resent:
                await wake_worker(conn)
        if resent or unknown:
            log.warning("lapsed deliveries recovered", resent=len(resent), unknown=len(unknown))
        return len(resent) + len(unknown)

    async def _publish(self, conn: asyncpg.Connection, row: asyncpg.Record, event_type: type, **fields: Any) -> None:
        await self.deps.store.append(conn, str(row["notification_id"]), 0, [_outcome(row, event_type, **fields)])


def _outcome(row: asyncpg.Record, event_type: type, **fields: Any) -> Any:
    """NotificationSent or NotificationFailed: ids, template and attempts, never the message itself."""
    return event_type(
        notification_id=str(row["notification_id"]),
        cause_event_id=row["cause_id"],
        recipient_id=row["recipient_id"],
        channel=row["channel"],
        template=row["template"],
        **fields,
    )


def _log_failure(task: asyncio.Task[None]) -> None:
    """A batch whose record failed stays ``sending``: the lease and the crash rule take it from there."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("delivery batch failed; its claims lapse after the lease", error=repr(task.exception()))


def _people_ids(recipient: str, context: dict[str, Any]) -> set[str]:
    ids = {recipient}
    for key, value in context.items():
        if key in PERSON_KEYS and value:
            ids.add(value)
        elif key in PEOPLE_KEYS:
            ids.update(value)
    return ids


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
            uuid.UUID(timer.subject),
            deps.clock.now(),
        )
        await wake_worker(conn)

    return on_retry_due
