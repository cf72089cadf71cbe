"""The consumer watchdog: a consumer that is stuck leaves its group and joins again, without hands.

Why: a consumer group heals most rebalances by itself (aiokafka rejoins when a heartbeat answers
"rebalancing"; Tansu evicts a member whose session expired), but once, after the other member of
matching's group was killed, the survivor logged ``Heartbeat failed ... because it is rebalancing``
and consumed nothing for minutes: the dead member's partitions never reached it.  Nothing in the
client or the broker noticed.  The watchdog notices from the outside, whatever the cause:

* **unassigned**: the consumer holds no partition while its group has no more members than the
  partitions it subscribes to (so every member should hold one), or
* **stalled**: records wait on its partitions (high watermark past its position), the handler is
  idle and no record reached it, or
* **orphaned**: records wait on partitions it does not hold and the group's committed offsets there
  do not move: no live member handles them (the survivor above held its own partitions; the dead
  member's were assigned to nobody alive),

each for longer than ``bound`` (twice the session timeout: a rebalance takes about half of one on
Tansu, a slow one two; an orphan is given up to half a bound more, different for each member, so that
usually one member acts and the rebalance its return causes helps the others too).  Then it stops the
subscriber (aiokafka sends LeaveGroup), starts a fresh one (a new member, new connections) and counts
the recovery in ``mentorship_consumer_recoveries_total``; ``ready`` is false from the detection until
the new consumer holds partitions.  Nothing is lost or done twice: the record in hand is finished
first, offsets are committed only after the effect, and the inbox turns a redelivery into a duplicate.

While the broker or the database does not answer, and for a bound after, no consumer is to blame and
the watchdog waits; a new assignment also gets a bound to start on.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import IllegalStateError, KafkaError

from shared.bus import Broker, new_admin, new_consumer
from shared.logging import get_logger
from shared.metrics import consumer_recoveries
from shared.subscription import Subscription
from shared.waiting import until_any

log = get_logger(__name__)

Probe = Callable[[], Awaitable[bool]]
"""True when the broker and the database answer: a consumer is only stuck if they are not."""


async def records_after(
    probe: AIOKafkaConsumer, offsets: dict[TopicPartition, int], timeout: float
) -> dict[TopicPartition, int] | None:
    """How many records each partition holds after the given offset, from a fetch's high watermark.

    ``probe`` is a consumer without a group; it is assigned ``offsets``' partitions and fetches once from
    each offset.  Not ``end_offsets``: Tansu answers ListOffsets "latest" with the last batch's first
    offset plus one, far too low once a producer sends several records per batch.  None when the broker
    did not answer for every partition within ``timeout``.
    """
    if not offsets:
        return {}
    probe.assign(list(offsets))  # fresh partition states: a high watermark seen below is from this fetch
    for tp, offset in offsets.items():
        probe.seek(tp, offset)
    deadline = time.monotonic() + timeout
    try:
        while True:
            await probe.getmany(timeout_ms=200, max_records=1)
            ends = {tp: probe.highwater(tp) for tp in offsets}
            if None not in ends.values():
                return {tp: max(end - offsets[tp], 0) for tp, end in ends.items()}
            if time.monotonic() > deadline:
                return None
    finally:
        # Left assigned, the probe's fetcher would go on long-polling those partitions between checks, a
        # fetch every ``fetch_max_wait_ms`` for nothing (about 0.5 ms of CPU each: bench/consumer.py).
        probe.unsubscribe()


Stuck = tuple[str, str]
"""(kind: unassigned, stalled or orphaned, the metric's label; why, in words for the log)."""


class ConsumerWatchdog:
    def __init__(
        self,
        subscription: Subscription,
        *,
        broker: Broker,
        session_timeout_ms: int,
        can_work: Probe,
        interval: float | None = None,
    ) -> None:
        self.subscription = subscription
        self.broker = broker
        self.bound = 2 * session_timeout_ms / 1000
        self.orphan_bound = self.bound * (1 + random.random() / 2)
        self.can_work = can_work
        self.interval = interval if interval is not None else min(1.0, self.bound / 8)
        self.request_timeout = min(5.0, self.bound / 2)
        self.recoveries = 0
        self._recovering = False
        self._unassigned_since: float | None = None
        self._quiet_since = time.monotonic()  # the last time the consumer was known to have nothing waiting
        self._outage_seen = time.monotonic()  # the last time the broker or the database did not answer (or start)
        self._assigned: frozenset[TopicPartition] = frozenset()
        self._others_offsets: dict[TopicPartition, int] = {}  # the group's committed offsets on partitions not held
        self._others_since = time.monotonic()  # since when they have not moved
        self._next_orphan_check = time.monotonic() + self.bound
        self._admin: AIOKafkaAdminClient | None = None
        self._probe: AIOKafkaConsumer | None = None

    @property
    def ready(self) -> bool:
        """False from the moment the consumer is found stuck until its successor holds partitions."""
        return not self._recovering

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    stuck = await self.check()
                    if stuck is not None:
                        await self.recover(*stuck)
                except (KafkaError, OSError) as exc:  # a failed probe or restart: look again next round
                    log.warning("consumer watchdog round failed", group=self.subscription.group, error=repr(exc))
                except Exception:  # never let the watchdog die quietly: say so and look again next round
                    log.exception("consumer watchdog round failed", group=self.subscription.group)
                await until_any(stop, seconds=self.interval)
        finally:
            if self._admin is not None:
                await self._admin.close()
            if self._probe is not None:
                await self._probe.stop()

    async def check(self) -> Stuck | None:
        """Why the consumer is stuck, or None when it is not (or not yet for longer than ``bound``)."""
        now = time.monotonic()
        consumer = self.subscription.consumer
        assigned = frozenset(consumer.assignment()) if consumer is not None else frozenset()
        self._note(assigned)
        if not assigned:
            self._unassigned_since = self._unassigned_since or now
            waited = now - self._unassigned_since
            if waited <= self.bound / 2 or await self._blameless(now) or waited <= self.bound:
                return None
            members, partitions = await self._group_size(consumer)
            if members is not None and members > partitions:  # more members than partitions: some hold none
                self._recovering = False
                return None
            return "unassigned", f"no partitions for {waited:.0f} s ({members} members, {partitions} partitions)"
        self._unassigned_since = None
        if self._recovering:
            self._recovering = False
            log.info("consumer recovered", group=self.subscription.group, partitions=len(assigned))
        progress = self.subscription.progress
        idle = now - max(progress.last_record, self._quiet_since)
        if not progress.busy and idle > self.bound / 2 and not await self._blameless(now) and idle > self.bound:
            waiting = await self._waiting(consumer, assigned)
            if waiting == 0:
                self._quiet_since = now
            elif progress.busy or progress.last_record > now:  # a record came while it looked: not stalled
                pass
            elif not await self._blameless(time.monotonic()):
                if waiting is None:
                    return "stalled", f"positions or end offsets unknown; none handled for {idle:.0f} s"
                return "stalled", f"{waiting} records waiting on its partitions, none handled for {idle:.0f} s"
        if now >= self._next_orphan_check:
            self._next_orphan_check = now + self.bound / 4
            return await self._orphans(consumer, assigned, now)
        return None

    async def recover(self, kind: str, reason: str) -> None:
        group = self.subscription.group
        self._recovering = True
        self.recoveries += 1
        consumer_recoveries.labels(group, kind).inc()
        log.warning("consumer stuck; leaving the group and joining again", group=group, kind=kind, reason=reason)
        started = time.monotonic()
        await self.subscription.restart()
        self._unassigned_since = None
        self._quiet_since = time.monotonic()
        log.info("consumer restarted", group=group, seconds=round(time.monotonic() - started, 1))

    async def _blameless(self, now: float) -> bool:
        """True while the broker or the database does not answer, and for a bound after: a consumer that could
        not work is given as long to catch up as one that just started.  Asked every round once a consumer
        looks half-way stuck, so that a short outage (a paused broker) is seen even when no rule fires in it;
        a probe of the watchdog's own that times out counts as an outage seen too."""
        if not await self.can_work():
            self._outage_seen = now
            return True
        return now - self._outage_seen <= self.bound

    def _note(self, assigned: frozenset[TopicPartition]) -> None:
        if assigned != self._assigned:
            self._assigned = assigned
            self._quiet_since = time.monotonic()  # new partitions: a bound to start on them
            log.info(
                "consumer assignment changed",
                group=self.subscription.group,
                partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned),
            )

    async def _waiting(self, consumer: AIOKafkaConsumer, assigned: frozenset[TopicPartition]) -> int | None:
        """Records after the consumer's positions on its partitions; None if it cannot say."""
        try:
            positions = {}
            for tp in assigned:
                positions[tp] = await asyncio.wait_for(consumer.position(tp), self.request_timeout)
            waiting = await records_after(await self._probe_consumer(), positions, self.request_timeout)
        except IllegalStateError:  # the assignment changed meanwhile: look again next round
            return 0
        except (TimeoutError, KafkaError):
            waiting = None
        if waiting is None:
            self._outage_seen = time.monotonic()  # the broker did not answer in time: not the consumer's fault
            return None
        return sum(waiting.values())

    async def _orphans(
        self, consumer: AIOKafkaConsumer, assigned: frozenset[TopicPartition], now: float
    ) -> Stuck | None:
        """Records wait on partitions this consumer does not hold, and no committed offset on any of those has
        moved for ``orphan_bound``: nobody alive handles them.  (A busy peer moves the offsets of the partition
        it works on, so a burst on one partition does not make its other partitions look orphaned.)"""
        others = [
            TopicPartition(topic, p)
            for topic in self.subscription.topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
            if TopicPartition(topic, p) not in assigned
        ]
        try:
            admin = await self._admin_client()
            committed = (
                await asyncio.wait_for(
                    admin.list_consumer_group_offsets(self.subscription.group, partitions=others), self.request_timeout
                )
                if others
                else {}
            )
            offsets = {tp: max(getattr(committed.get(tp), "offset", 0), 0) for tp in others}
            after = await records_after(await self._probe_consumer(), offsets, self.request_timeout)
        except (TimeoutError, KafkaError, OSError):
            after = None
        if after is None:
            self._outage_seen = time.monotonic()  # the broker did not answer in time
            return None
        waiting = {tp: n for tp, n in after.items() if n > 0}
        if not waiting or offsets != self._others_offsets:
            self._others_offsets, self._others_since = offsets, now
            return None
        age = now - self._others_since
        if age <= self.orphan_bound or await self._blameless(now):
            return None
        self._others_offsets, self._others_since = {}, now
        tp = max(waiting, key=waiting.__getitem__)
        return "orphaned", (
            f"{sum(waiting.values())} records wait on {len(waiting)} partitions it does not hold (most on"
            f" {tp.topic}:{tp.partition}) and no committed offset there moved for {age:.0f} s"
        )

    async def _probe_consumer(self) -> AIOKafkaConsumer:
        """A consumer without a group, for ``records_after``; one for the watchdog's life."""
        if self._probe is None:
            probe = new_consumer(
                self.broker,
                enable_auto_commit=False,
                fetch_max_wait_ms=100,
                request_timeout_ms=int(self.request_timeout * 1000),
            )
            try:
                await asyncio.wait_for(probe.start(), self.request_timeout)
            except BaseException:
                await probe.stop()
                raise
            self._probe = probe
        return self._probe

    async def _admin_client(self) -> AIOKafkaAdminClient:
        """One admin client for the watchdog's life (group offsets and descriptions), closed when it stops."""
        if self._admin is None:
            admin = new_admin(self.broker, request_timeout_ms=int(self.request_timeout * 1000))
            try:
                await asyncio.wait_for(admin.start(), self.request_timeout)
            except BaseException:
                await admin.close()
                raise
            self._admin = admin
        return self._admin

    async def _group_size(self, consumer: AIOKafkaConsumer | None) -> tuple[int | None, int]:
        """(members of the group as the broker sees them or None, partitions of the subscribed topics)."""
        partitions = 0
        if consumer is not None:
            partitions = sum(len(consumer.partitions_for_topic(t) or ()) for t in self.subscription.topics)
        try:
            admin = await self._admin_client()
            [response] = await asyncio.wait_for(
                admin.describe_consumer_groups([self.subscription.group]), self.request_timeout
            )
            [group] = response.to_object()["groups"]
            return (len(group["members"]) if group["error_code"] == 0 else None), partitions
        except (TimeoutError, KafkaError, OSError, ValueError):
            self._outage_seen = time.monotonic()
            return None, partitions
