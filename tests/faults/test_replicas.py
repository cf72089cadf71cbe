"""Two replicas of every service (OS processes, one database and one consumer group per service).

With the workload flowing, the replica of each service that holds the outbox relay is killed
(``kill -9``) and not restarted: the other replica takes the relay over, the consumer group hands
it the dead member's partitions, and the end state equals the clean single-replica run.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx

from mentorship.stack import Replica
from tests.faults import ledger
from tests.faults.cluster import Cluster, start_cluster, wait_until
from tests.faults.scenario import (
    PLAN,
    CleanRun,
    FaultRow,
    dead_letters,
    in_flight,
    settle,
)
from tests.faults.workload import Api, Workload

RELAY_ACTIVE = '"event": "outbox relay active"'
CONSUMING = ("matching", "relationships", "notifications")  # groups with traffic (profiles only reads hr.events)


RELAY_LOST = '"event": "outbox relay interrupted; retrying"'


def relay_lines(replica: Replica) -> list[str]:
    lines = replica.log_path.read_text(errors="replace").splitlines()
    return [line for line in lines if RELAY_ACTIVE in line or RELAY_LOST in line]


def relay_holders(cluster: Cluster, service: str) -> list[Replica]:
    """Replicas whose last word on the relay is "active" (the log tells; the lock is in Postgres)."""
    return [r for r in cluster.services[service].replicas if (lines := relay_lines(r)) and RELAY_ACTIVE in lines[-1]]


def activations(replica: Replica) -> int:
    return sum(RELAY_ACTIVE in line for line in relay_lines(replica))


async def partitions_handled(replica: Replica) -> set[tuple[str, str]]:
    """(topic, partition) pairs this replica's consumer has handled a record from (its lag gauges)."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{replica.url}/metrics")).text
    return set(re.findall(r'mentorship_consumer_lag\{group="[^"]+",partition="(\d+)",topic="([^"]+)"\}', text))


async def test_two_replicas_each_lose_one_mid_stream(postgres, tmp_path: Path, clean_run: CleanRun, fault_rows) -> None:
    with start_cluster(postgres, tmp_path, replicas=2) as cluster:
        api = Api(cluster.urls())
        workload = Workload(api, PLAN)
        run = asyncio.create_task(workload.run())
        try:
            await wait_until(lambda: workload.phase == "matching", timeout=120, interval=0.05)

            async def spread() -> bool:
                for service in CONSUMING:
                    for replica in cluster.services[service].replicas:
                        if not await partitions_handled(replica):
                            return False
                return True

            # Partitions spread: every replica of every busy group has been handed some.
            await wait_until(spread, timeout=60)
            holders = {}
            for service in ledger.PUBLISHING:
                [holders[service]] = relay_holders(cluster, service)  # exactly one relay is active
            flight = await in_flight(cluster, clean_run)
            victims = {s: holders.get(s, cluster.replica(s)) for s in cluster.services}
            survivors = {
                s: next(r for r in cluster.services[s].replicas if r is not victims[s]) for s in cluster.services
            }
            before = {s: activations(survivors[s]) for s in ledger.PUBLISHING}
            killed_at = time.monotonic()
            for replica in victims.values():
                replica.kill()

            async def taken_over(service: str) -> float:
                survivor = survivors[service]
                await wait_until(lambda: activations(survivor) > before[service], timeout=15, interval=0.1)
                return time.monotonic() - killed_at

            fail_over = {s: await taken_over(s) for s in ledger.PUBLISHING}
            await run
        finally:
            if not run.done():
                run.cancel()
            await api.close()

        settled = await settle(cluster)
        missing, extra, differ = ledger.compare(clean_run.fingerprint, settled.fingerprint)
        unreached, twice = await ledger.unreached(cluster, clean_run.interests)
        letters = await dead_letters(cluster)
        slowest = max(fail_over.values())
        allowed = await ledger.crash_resent(cluster)
        fault_rows.append(
            FaultRow(
                "2 replicas, kill -9 one of each",
                flight,
                max(missing, unreached),
                extra + twice + max(cluster.smtp.duplicates - allowed, 0),
                slowest,
                time.monotonic() - killed_at,
                sum(letters.values()),
                cluster.smtp.duplicates,
            )
        )
        print("relay fail-over seconds:", {s: round(v, 1) for s, v in fail_over.items()})
        assert differ == [] and (unreached, twice) == (0, 0)
        # Only notifications' crash rule may send an e-mail twice (same Message-ID), never thrice.
        assert cluster.smtp.duplicates <= allowed and cluster.smtp.most_copies <= 2
        assert set(letters.values()) == {0}, letters
