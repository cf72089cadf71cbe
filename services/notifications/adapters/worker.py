"""The delivery worker's loop: batches claimed as intents come due, several in flight, woken by NOTIFY.

What one batch does (claim → render → send → record) is ``application/deliver.py``; this module keeps
up to ``delivery_batches`` of them in flight on the worker's own pool, so a new intent is claimed (and
its message on its way) while earlier batches are still sending or being recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping

import asyncpg

from services.notifications.adapters.postgres import WAKE_CHANNEL, PoolTransactions
from services.notifications.application import deliver
from services.notifications.application.deliver import Delivery
from services.notifications.application.deps import Deps
from services.notifications.application.ports import Renderer
from services.notifications.domain.outgoing import Channel
from shared.logging import get_logger

log = get_logger(__name__)


class DeliveryWorker:
    def __init__(self, pool: asyncpg.Pool, delivery: Delivery) -> None:
        self.pool, self.delivery = pool, delivery
        self._wake = asyncio.Event()
        self._stopping = False

    @classmethod
    def on_pool(
        cls, pool: asyncpg.Pool, deps: Deps, channels: Mapping[str, Channel], templates: Renderer
    ) -> DeliveryWorker:
        """A worker whose claims, lease checks and outcomes all run on ``pool``."""
        delivery = Delivery(
            deps,
            channels,
            templates,
            transactions=PoolTransactions(lambda: pool),
            connections=PoolTransactions(lambda: pool, transaction=False),
        )
        return cls(pool, delivery)

    @property
    def deps(self) -> Deps:
        return self.delivery.deps

    async def run(self) -> None:
        """Claim batches as intents come due and keep up to ``delivery_batches`` of them in flight; woken by
        the consumer's NOTIFY, and polling as a fallback; lapsed leases are looked for every ``recovery``."""
        slots = asyncio.Semaphore(self.deps.options.delivery_batches)
        in_flight: set[asyncio.Task[None]] = set()
        poll = self.deps.options.delivery_poll_seconds
        recovery = recovery_interval(poll, self.deps.options.claim_lease_seconds)
        recovered_at = float("-inf")
        async with self.pool.acquire() as listener:
            await listener.add_listener(WAKE_CHANNEL, self._on_wake)
            try:
                while not self._stopping:
                    self._wake.clear()
                    backlog = False
                    try:
                        if time.monotonic() - recovered_at >= recovery:
                            # A wake-up (a new intent) need not wait for that transaction.
                            await self.recover_lapsed()
                            recovered_at = time.monotonic()
                        backlog = await self._claim_while_due(slots, in_flight, recovered_at + recovery)
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

    async def _claim_while_due(
        self, slots: asyncio.Semaphore, in_flight: set[asyncio.Task[None]], check_leases_at: float
    ) -> bool:
        """Claim batch after batch (each sent and recorded in a task of its own) until none is due; ``True``
        if still claiming when the leases are due to be checked again (a backlog: no waiting).

        A claim of fewer than ``delivery_concurrency`` intents took every one due: claiming again at once
        would find nothing (one statement per wake-up for nothing); an intent recorded since was recorded
        after the wake-up was reset, so its NOTIFY wakes the worker again."""
        full = self.deps.options.delivery_concurrency
        while not self._stopping:
            if time.monotonic() >= check_leases_at:
                return True
            await slots.acquire()
            try:
                batch = await deliver.claim(self.delivery)
            except BaseException:
                slots.release()
                raise
            if batch is None:
                slots.release()
                return False
            task = asyncio.create_task(deliver.finish(self.delivery, *batch), name="delivery-batch")
            in_flight.add(task)
            task.add_done_callback(lambda t: (in_flight.discard(t), slots.release(), _log_failure(t)))
            if len(batch[0]) < full:
                return False
        return False

    async def deliver_due(self) -> int:
        """Deliver every due intent, one claimed batch after another; returns how many were claimed."""
        return await deliver.deliver_due(self.delivery, stopping=lambda: self._stopping)

    async def recover_lapsed(self) -> int:
        return await deliver.recover_lapsed(self.delivery)

    async def close(self) -> None:
        """Release what the channels hold open (pooled SMTP sessions)."""
        for channel in self.delivery.channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                await close()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _on_wake(self, *_: object) -> None:
        self._wake.set()


def recovery_interval(poll_seconds: float, lease_seconds: float) -> float:
    """How often the worker looks for lapsed claims: a quarter of the lease (it runs for minutes), so a lost
    claim is sent again at most a quarter lease late, but never more often than it polls. Once per poll
    (every second) was a transaction of two statements a second for nothing (bench/load.py --idle-seconds)."""
    return max(poll_seconds, lease_seconds / 4)


def _log_failure(task: asyncio.Task[None]) -> None:
    """A batch whose record failed stays ``sending``: the lease and the crash rule take it from there."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("delivery batch failed; its claims lapse after the lease", error=repr(task.exception()))
