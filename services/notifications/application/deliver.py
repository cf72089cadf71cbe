"""Delivery: send recorded intents outside any consumer transaction, and record what became of them.

A batch at a time (up to ``delivery_concurrency`` intents): ``claim`` takes them (``sending``, attempts
+ 1, claim time; committed before anything is sent) and renders them all (one contacts query for the
batch); ``finish`` sends them concurrently, then records the batch's outcomes in one transaction:
``sent`` with ``NotificationSent`` (one statement for the intents, one for all the events), or for a
failure a retry on a durable timer with back-off, or after the last attempt ``failed`` with
``NotificationFailed``.  Batching keeps the commits (each one waits for the disk) and round trips per
message low, which is what lets the worker keep up at hundreds of messages a second.  The loop that
keeps several batches in flight and is woken by new intents is ``adapters/worker.py``.

Crash between the receiver's acceptance and our record: the intent stays ``sending``.  Once its claim
is older than the lease, ``recover_lapsed`` sends it again, with the same Message-ID, at most
``MAX_CRASH_RESENDS`` times; after that its outcome is ``unknown`` (NotificationFailed) and it is never
sent again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from services.notifications.application.compose import Composer
from services.notifications.application.deps import Deps
from services.notifications.application.ports import Claimed, Renderer
from services.notifications.domain.outgoing import Channel, Outgoing
from services.notifications.domain.retry import MAX_CRASH_RESENDS
from shared.events import Event
from shared.events.notifications import NotificationFailed, NotificationSent
from shared.logging import get_logger
from shared.ports import Conn, Timer, Transactions

log = get_logger(__name__)

DELIVERY_RETRY = "delivery-retry"

Batch = tuple[list[Claimed], dict[uuid.UUID, Outgoing | Exception]]
"""Claimed intents and each one's message (or why it could not be written)."""


@dataclass
class Delivery:
    """What the delivery use cases are handed: the service's ports, the channels and templates, and two
    ways onto the worker's own connection pool (so sending at full tilt never starves the consumer)."""

    deps: Deps
    channels: Mapping[str, Channel]
    templates: Renderer
    transactions: Transactions
    """Outcomes: one transaction per batch."""
    connections: Transactions
    """Claims: a connection without a transaction, so the claim is committed by its own statement."""
    composer: Composer = field(init=False)

    def __post_init__(self) -> None:
        self.composer = Composer(self.deps.contacts, self.deps.intents, self.templates, self.deps.options)


async def claim(d: Delivery) -> Batch | None:
    """Claim up to ``delivery_concurrency`` due intents (committed before anything is sent) and render them."""
    async with d.connections() as conn:
        claimed = await d.deps.intents.claim(conn, d.deps.clock.now(), d.deps.options.delivery_concurrency)
        if not claimed:
            return None
        return claimed, await d.composer.compose_all(conn, claimed)


async def finish(d: Delivery, claimed: Sequence[Claimed], composed: Mapping[uuid.UUID, Outgoing | Exception]) -> None:
    """Send a claimed batch concurrently, then record every outcome in one transaction."""
    outcomes = await asyncio.gather(*(_send(d, intent, composed[intent.notification_id]) for intent in claimed))
    await record_outcomes(d, claimed, outcomes)


async def deliver_due(d: Delivery, stopping: Callable[[], bool] = lambda: False) -> int:
    """Deliver every due intent, one claimed batch after another; returns how many were claimed."""
    delivered = 0
    while not stopping():
        batch = await claim(d)
        if batch is None:
            return delivered
        await finish(d, *batch)
        delivered += len(batch[0])
    return delivered


async def _send(d: Delivery, intent: Claimed, outgoing: Outgoing | Exception) -> Exception | None:
    """``None`` once the receiver accepted the message, else the error (this message's retry)."""
    if isinstance(outgoing, Exception):
        return outgoing
    try:
        await d.channels[intent.channel].send(outgoing)
    except Exception as exc:
        return exc
    return None


async def record_outcomes(d: Delivery, claimed: Sequence[Claimed], outcomes: Sequence[Exception | None]) -> None:
    """The outcome of a whole batch in one transaction: ``sent`` + NotificationSent, or the failure rule."""
    deps = d.deps
    failed = [(intent, error) for intent, error in zip(claimed, outcomes, strict=False) if error is not None]
    for intent, error in failed:
        log.warning(
            "delivery failed",
            notification_id=str(intent.notification_id),
            attempts=intent.attempts,
            error=repr(error),
            give_up=deps.retry.next_delay(intent.attempts) is None,
        )
    by_id = {intent.notification_id: intent for intent in claimed}
    succeeded = [intent.notification_id for intent, error in zip(claimed, outcomes, strict=False) if error is None]
    async with d.transactions() as conn:
        sent = await deps.intents.mark_sent(conn, succeeded, deps.clock.now())
        await deps.store.start_streams(
            conn,
            [(str(nid), outcome(by_id[nid], NotificationSent, attempts=attempts)) for nid, attempts in sent.items()],
        )
        for intent, error in failed:
            await _failed(deps, conn, intent, error)


async def _failed(deps: Deps, conn: Conn, intent: Claimed, error: Exception) -> None:
    """Retry after the back-off, or give up after the last attempt (unless the crash rule took it meanwhile)."""
    delay = deps.retry.next_delay(intent.attempts)
    status = "retrying" if delay is not None else "failed"
    nid = intent.notification_id
    if not await deps.intents.mark_failed_sending(conn, nid, status, repr(error)[:2000]):
        return
    if delay is not None:
        await deps.timers.schedule(conn, f"{DELIVERY_RETRY}:{nid}", DELIVERY_RETRY, str(nid), deps.clock.now() + delay)
    else:
        failure = outcome(intent, NotificationFailed, attempts=intent.attempts, error=repr(error)[:2000])
        await deps.store.append(conn, str(nid), 0, [failure])


async def recover_lapsed(d: Delivery) -> int:
    """Apply the crash rule to claims older than the lease; returns how many intents it touched."""
    deps = d.deps
    now = deps.clock.now()
    cutoff = now - timedelta(seconds=deps.options.claim_lease_seconds)
    async with d.transactions() as conn:
        resent = await deps.intents.resend_lapsed_sending(conn, now, cutoff, MAX_CRASH_RESENDS)
        unknown = await deps.intents.give_up_lapsed_sending(conn, cutoff)
        for intent in unknown:
            error = (
                f"outcome unknown: the sender stopped after handing the message over {intent.attempts} times;"
                " not sent again"
            )
            failure = outcome(intent, NotificationFailed, attempts=intent.attempts, error=error)
            await deps.store.append(conn, str(intent.notification_id), 0, [failure])
        if resent:
            await deps.intents.wake_worker(conn)
    if resent or unknown:
        log.warning("lapsed deliveries recovered", resent=resent, unknown=len(unknown))
    return resent + len(unknown)


async def retry_due(deps: Deps, conn: Conn, timer: Timer) -> None:
    """A failed delivery's back-off is over: it is pending again and the worker is woken."""
    await deps.intents.retry(conn, uuid.UUID(timer.subject), deps.clock.now())
    await deps.intents.wake_worker(conn)


def outcome(intent: Claimed, event_type: type[Event], **fields: Any) -> Event:
    """NotificationSent or NotificationFailed: ids, template and attempts, never the message itself."""
    return event_type(
        notification_id=str(intent.notification_id),
        cause_event_id=intent.cause_id,
        recipient_id=intent.recipient_id,
        channel=intent.channel,
        template=intent.template,
        **fields,
    )
