"""One faulted run: workload flowing, a fault injected mid-stream, then the end state checked.

``exercise`` drives the workload, waits until it is busy matching (events flowing through every
service), injects the fault, lets the workload finish, and waits until the platform settles.  The
row it returns says what was in flight when the fault hit, what was lost or took effect twice
compared with the clean run, and how long the services took to be ready again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx
from aiokafka import TopicPartition

from shared.bus import HR_TOPIC, dead_letter_topic, new_admin, new_consumer, topic_for
from shared.watchdog import records_after
from tests.faults import ledger
from tests.faults.cluster import Cluster
from tests.faults.workload import Api, Plan, Workload

PLAN = Plan(mentors=6, mentees=24, capacity=10)
SETTLE_TIMEOUT = 150.0
DEAD_LETTER_GROUPS = ("profiles", "matching", "relationships", "notifications")
SUBSCRIPTIONS = {  # the topics (by owner) each consumer group subscribes to
    "profiles": ("hr",),
    "matching": ("profiles", "hr", "relationships"),
    "relationships": ("matching", "profiles"),
    "notifications": ("profiles", "matching", "relationships"),
}

Fault = Callable[[Cluster], Awaitable[float]]
"""Injects the fault; returns the ``time.monotonic()`` at which it ended (broker resumed, restart begun, …)."""
CaughtUp = Callable[[Cluster], Awaitable[bool]]
"""True once the consumers a fault hit have caught up (measured from the fault's end, for the row)."""


@dataclass(frozen=True)
class CleanRun:
    fingerprint: dict[str, ledger.TableSum]
    interests: dict[str, set[str]]
    events: int


@dataclass(frozen=True)
class FaultRow:
    fault: str
    in_flight: int
    lost: int
    duplicated: int
    recovery_seconds: float
    settled_seconds: float
    dead_lettered: int
    resent_emails: int = 0  # second copies after a crash, same Message-ID (the receiver drops them)
    caught_up_seconds: float | None = None  # from the fault's end until the consumers it hit caught up (if measured)
    note: str = ""  # the row's own figures, printed after the columns (e.g. the HTTP edge's timings and memory)


def format_table(rows: list[FaultRow]) -> str:
    head = (
        f"{'fault':<34} {'in flight':>9} {'lost':>5} {'dup. effects':>12} {'recovery s':>10} {'settled s':>9}"
        f" {'dead-lettered':>13} {'e-mail resent':>13} {'caught up s':>11}"
    )
    lines = [head, "-" * len(head)]
    lines += [
        f"{r.fault:<34} {r.in_flight:>9} {r.lost:>5} {r.duplicated:>12} {r.recovery_seconds:>10.1f} "
        f"{r.settled_seconds:>9.1f} {r.dead_lettered:>13} {r.resent_emails:>13} {_seconds(r.caught_up_seconds):>11}"
        + (f"  {r.note}" if r.note else "")
        for r in rows
    ]
    lines += [
        "",
        "in flight: events stored but unpublished or not yet recorded by a consumer when the fault hit;",
        "recovery: seconds from the fault's end until every replica answered /readyz; settled: until the",
        "state equalled the clean run's; e-mail resent: second copies after a crash, same Message-ID;",
        "caught up: until the consumers the fault hit had nothing waiting again.",
    ]
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


async def quiet(cluster: Cluster) -> bool:
    """Nothing waiting in an outbox, no notification waiting to be delivered and no record waiting for a
    consumer group (a state that stopped changing because a consumer stopped is not settled)."""
    return (
        await ledger.outbox_backlog(cluster) == 0
        and await ledger.undelivered(cluster) == 0
        and await records_waiting(cluster) == 0
    )


async def records_waiting(cluster: Cluster) -> int:
    """Records past the committed offsets of every consumer group, on the topics it subscribes to."""
    consumer = new_consumer(cluster.broker.bootstrap, enable_auto_commit=False)
    admin = new_admin(cluster.broker.bootstrap)
    await consumer.start()
    await admin.start()
    try:
        await consumer.topics()  # loads the metadata of every topic
        waiting = 0
        for group, owners in SUBSCRIPTIONS.items():
            if group not in cluster.services:
                continue
            topics = [HR_TOPIC if owner == "hr" else topic_for(owner) for owner in owners]
            partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            offsets = {tp: max(getattr(committed.get(tp), "offset", 0), 0) for tp in partitions}
            after = await records_after(consumer, offsets, timeout=10)
            waiting += 1 if after is None else sum(after.values())  # no answer: not known to be caught up
        return waiting
    finally:
        await admin.close()
        await consumer.stop()


async def settle(cluster: Cluster, timeout: float = SETTLE_TIMEOUT) -> CleanRun:
    """Wait until the state stops changing (two equal fingerprints a few seconds apart, all quiet).

    The masked rows of the last fingerprint stay in ``<log dir>/state/`` for diffing two runs.
    """
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        current = await ledger.fingerprint(cluster, cluster.log_dir / "state") if await quiet(cluster) else None
        if current is not None and current == previous:
            interests = await ledger.handled_types(cluster)
            events = sum(len(e) for e in (await ledger.stored_events(cluster)).values())
            return CleanRun(current, interests, events)
        if time.monotonic() > deadline:
            raise TimeoutError("the clean run never settled")
        previous = current
        await asyncio.sleep(2)


async def in_flight(cluster: Cluster, clean: CleanRun) -> int:
    """Events stored but not yet published, plus published events some consumer has not recorded yet."""
    missing, _ = await ledger.unreached(cluster, clean.interests)
    return await ledger.outbox_backlog(cluster) + missing


async def all_ready(cluster: Cluster, timeout: float = 120.0) -> float:
    """Wait until every replica of every service answers ``/readyz`` with 200; return the seconds taken."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=3) as client:
        for url in (u for urls in cluster.urls().values() for u in urls):
            while True:
                try:
                    if (await client.get(f"{url}/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"{url} not ready {timeout}s after the fault")
                await asyncio.sleep(0.2)
    return time.monotonic() - started


async def dead_letters(cluster: Cluster) -> dict[str, int]:
    """Messages in each consumer group's dead-letter topic (end offsets)."""
    consumer = new_consumer(cluster.broker.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        counts = {}
        topics = await consumer.topics()
        for group in DEAD_LETTER_GROUPS:
            topic = dead_letter_topic(group)
            partitions = consumer.partitions_for_topic(topic) if topic in topics else None
            if not partitions:
                counts[group] = 0
                continue
            ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
            counts[group] = sum(ends.values())
        return counts
    finally:
        await consumer.stop()


async def exercise(
    cluster: Cluster,
    clean: CleanRun,
    name: str,
    fault: Fault,
    *,
    expected_dead_letters: dict[str, int] | None = None,
    when: Callable[[Workload], bool] = lambda w: w.phase in ("matching", "relationships"),
    caught_up: CaughtUp | None = None,
) -> tuple[FaultRow, list[str]]:
    """Run the workload with ``fault`` injected once ``when(workload)`` holds; return the row and any diffs.

    ``caught_up``, if given, is polled from the fault's end; the seconds until it held go in the row, and the
    platform is let settle only once it held (a state that stopped changing because a consumer stopped is
    not settled).
    """
    api = Api(cluster.urls())
    workload = Workload(api, PLAN)
    run = asyncio.create_task(workload.run())
    catching_up: asyncio.Task[float | None] | None = None
    try:
        while not when(workload):
            if run.done():
                await run  # raises what the workload raised
                raise AssertionError(f"the workload finished before the fault could be injected ({name})")
            await asyncio.sleep(0.05)
        flight = await in_flight(cluster, clean)
        fault_over = await fault(cluster)
        catching_up = asyncio.create_task(seconds_until(caught_up, cluster, fault_over)) if caught_up else None
        await all_ready(cluster)
        recovery = time.monotonic() - fault_over
        await run
        caught_up_seconds = await catching_up if catching_up is not None else None
    finally:
        for task in (run, catching_up):
            if task is not None and not task.done():
                task.cancel()
        await api.close()
    problems: list[str] = []
    if catching_up is not None and caught_up_seconds is None:
        problems.append(f"the consumers never caught up within {SETTLE_TIMEOUT * 2:.0f} s")
    try:
        settled = await settle(cluster)
        seen = settled.fingerprint
    except TimeoutError:
        seen = await ledger.fingerprint(cluster, cluster.log_dir / "state")
        problems.append("never settled (outbox or deliveries still pending)")
    settled_seconds = time.monotonic() - fault_over
    missing_rows, extra_rows, differ = ledger.compare(clean.fingerprint, seen)
    unreached, recorded_twice = await ledger.unreached(cluster, clean.interests)
    duplicated = extra_rows + recorded_twice
    resent = cluster.smtp.duplicates
    lost = max(missing_rows, unreached)
    letters = await dead_letters(cluster)
    expected = expected_dead_letters or {}
    for group, count in letters.items():
        if count != expected.get(group, 0):
            problems.append(f"{group}.dlq holds {count} messages, expected {expected.get(group, 0)}")
    problems += differ
    # An e-mail accepted by SMTP just before its sender was killed is sent once more, same Message-ID:
    # notifications' documented crash rule.  Any other second copy, or a third, is a duplicated effect.
    allowed = await ledger.crash_resent(cluster)
    if resent > allowed or cluster.smtp.most_copies > 2:
        problems.append(
            f"{resent} e-mails delivered twice (same Message-ID), only {allowed} after a crash;"
            f" most copies of one: {cluster.smtp.most_copies}"
        )
        duplicated += resent - allowed
    if unreached:
        problems.append(f"{unreached} stored events never reached a consumer that handles them")
    row = FaultRow(
        name, flight, lost, duplicated, recovery, settled_seconds, sum(letters.values()), resent, caught_up_seconds
    )
    return row, problems


async def seconds_until(caught_up: CaughtUp, cluster: Cluster, since: float) -> float | None:
    """Seconds from ``since`` until ``caught_up(cluster)`` held (polled twice a second), None if it never did."""
    deadline = since + SETTLE_TIMEOUT * 2
    while time.monotonic() < deadline:
        if await caught_up(cluster):
            return time.monotonic() - since
        await asyncio.sleep(0.5)
    return None


async def group_lag(cluster: Cluster, groups: Sequence[str], topic: str) -> dict[str, int]:
    """Records of ``topic`` each consumer group has not committed yet (a fetch's high watermark minus the
    committed offset: ``shared.watchdog.records_after``, since Tansu's end offsets are wrong for batches)."""
    consumer = new_consumer(cluster.broker.bootstrap, enable_auto_commit=False)
    admin = new_admin(cluster.broker.bootstrap)
    await consumer.start()
    await admin.start()
    try:
        await consumer.topics()  # loads the metadata of every topic
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        lag = {}
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            offsets = {tp: max(getattr(committed.get(tp), "offset", 0), 0) for tp in partitions}
            after = await records_after(consumer, offsets, timeout=10)
            if after is None:
                raise TimeoutError(f"no high watermark of {topic} within 10 s")
            lag[group] = sum(after.values())
        return lag
    finally:
        await admin.close()
        await consumer.stop()
