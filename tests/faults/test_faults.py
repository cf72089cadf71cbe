"""Faults on real processes while the workload flows; the end state must equal the clean run's.

Each case starts its own broker and services (its own databases), drives the workload, injects one
fault mid-stream and then checks: every stored event reached every consumer that handles it, exactly
once in effect (table checksums equal the clean run's, no e-mail twice), nothing dead-lettered but
the poison, and every service ready again without anyone touching it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import pytest

from mentorship.devstack.postgres import _embedded
from shared.bus import HR_TOPIC, new_producer, topic_for
from tests.faults.cluster import SERVICES, Cluster, start_cluster
from tests.faults.scenario import SUBSCRIPTIONS, CleanRun, FaultRow, exercise
from tests.faults.workload import Workload

BROKER_PAUSE_SECONDS = 10.0
POSTGRES_DOWNTIME_SECONDS = 3.0
LONG = {"profiles", "relationships", "notifications", "analytics"}  # matching runs by default


def matching_started(workload: Workload) -> bool:
    return workload.phase in ("matching", "relationships")


BUSY = {  # when a service is in the middle of its work: profiles while people register, the rest later
    "profiles": lambda w: w.phase == "registering" and w.api.stats.commands >= w.plan.mentors,
}


def check(row: FaultRow, problems: list[str], rows: list[FaultRow]) -> None:
    rows.append(row)
    assert (row.lost, row.duplicated, problems) == (0, 0, []), problems


async def test_broker_paused_for_ten_seconds(postgres, tmp_path: Path, clean_run: CleanRun, fault_rows) -> None:
    async def pause(cluster: Cluster) -> float:
        with cluster.broker_paused():
            await asyncio.sleep(BROKER_PAUSE_SECONDS)
        return time.monotonic()

    with start_cluster(postgres, tmp_path) as cluster:
        check(*await exercise(cluster, clean_run, f"broker SIGSTOP {BROKER_PAUSE_SECONDS:.0f} s", pause), fault_rows)


@pytest.mark.parametrize(
    "service", [pytest.param(s, marks=pytest.mark.long_fault) if s in LONG else s for s in SERVICES]
)
async def test_service_killed_mid_batch_and_restarted(
    service: str, postgres, tmp_path: Path, clean_run: CleanRun, fault_rows
) -> None:
    async def kill_and_restart(cluster: Cluster) -> float:
        replica = cluster.replica(service)
        replica.kill()
        over = time.monotonic()
        await asyncio.to_thread(replica.restart)
        return over

    with start_cluster(postgres, tmp_path) as cluster:
        check(
            *await exercise(
                cluster,
                clean_run,
                f"kill -9 {service}, restart",
                kill_and_restart,
                when=BUSY.get(service, matching_started),
            ),
            fault_rows,
        )


@pytest.mark.long_fault
async def test_postgres_restarted(tmp_path: Path, clean_run: CleanRun, fault_rows) -> None:
    """A private embedded server (whatever MENTORSHIP_PG_DSN says): only a server we started can be restarted."""

    async def restart(cluster: Cluster) -> float:
        await asyncio.to_thread(cluster.postgres.restart, POSTGRES_DOWNTIME_SECONDS)
        return time.monotonic()

    with _embedded(None) as own, start_cluster(own, tmp_path) as cluster:
        check(
            *await exercise(cluster, clean_run, f"Postgres down {POSTGRES_DOWNTIME_SECONDS:.0f} s, restart", restart),
            fault_rows,
        )


POISON_PER_TOPIC = 5
BAD_PAYLOAD = ("profiles", "MentorRegistered", 3)  # a known type whose payload does not validate


def poison_expectations(interests: dict[str, set[str]]) -> dict[str, int]:
    """Dead letters each group must hold: every unparseable message on its topics, and the bad payloads
    of a type it handles."""
    owner, event_type, count = BAD_PAYLOAD
    expected = {}
    for group, topics in SUBSCRIPTIONS.items():
        expected[group] = POISON_PER_TOPIC * len(topics)
        if owner in topics and event_type in interests[group]:
            expected[group] += count
    return expected


async def test_poison_burst_is_dead_lettered_and_nothing_else(
    postgres, tmp_path: Path, clean_run: CleanRun, fault_rows
) -> None:
    async def burst(cluster: Cluster) -> float:
        producer = new_producer(cluster.broker.bootstrap)
        await producer.start()
        try:
            for topic in [topic_for(s) for s in ("profiles", "matching", "relationships", "notifications")] + [
                HR_TOPIC
            ]:
                for i in range(POISON_PER_TOPIC):
                    value = b"\x00not json" if i % 2 else json.dumps({"type": "MentorRegistered", "id": "x"}).encode()
                    await producer.send_and_wait(topic, value, key=f"poison-{i}".encode())
            owner, event_type, count = BAD_PAYLOAD
            for i in range(count):
                poison_id = str(uuid.uuid4())
                cluster.poison_ids.add(poison_id)
                envelope = {
                    "id": poison_id,
                    "source": "/faults",
                    "type": event_type,
                    "specversion": "1.0",
                    "time": "2026-01-01T00:00:00Z",
                    "subject": f"poison-{i}",
                    "datacontenttype": "application/json",
                    "correlationid": str(uuid.uuid4()),
                    "sequence": 1,
                    "schemaversion": 1,
                    "data": {"capacity": "many"},
                }
                await producer.send_and_wait(
                    topic_for(owner), json.dumps(envelope).encode(), key=f"poison-{i}".encode()
                )
        finally:
            await producer.stop()
        return time.monotonic()

    with start_cluster(postgres, tmp_path) as cluster:
        expected = poison_expectations(clean_run.interests)
        row, problems = await exercise(
            cluster, clean_run, "poison burst (28 messages)", burst, expected_dead_letters=expected
        )
        check(row, problems, fault_rows)
        assert row.dead_lettered == sum(expected.values())
