"""A burst of 10,000 malformed messages on ``hr.events`` while the workload flows.

Every group that reads the HR feed (profiles, matching) dead-letters each one, nothing else is lost or done
twice, and the groups' lag on ``hr.events`` goes back to zero: the row's "caught up" column says after how
many seconds.  Each dead letter is a produce and a commit, one message at a time, so the burst costs minutes
on two cores: a ``long_fault`` case (``make faults``), not part of the bounded CI subset.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from shared.bus import HR_TOPIC, new_producer
from tests.faults.cluster import Cluster, start_cluster
from tests.faults.scenario import CleanRun, exercise, group_lag

BURST = 10_000
HR_READERS = ("profiles", "matching")  # the consumer groups subscribed to hr.events


async def send_burst(cluster: Cluster) -> float:
    """``BURST`` messages no consumer can parse, spread over the topic's partitions by key, sent in batches."""
    producer = new_producer(cluster.broker.bootstrap, linger_ms=20)
    await producer.start()
    try:
        sent = []
        for i in range(BURST):
            sent.append(await producer.send(HR_TOPIC, b"\x00not json %d" % i, key=b"burst-%d" % i))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return time.monotonic()


async def hr_lag_gone(cluster: Cluster) -> bool:
    return set((await group_lag(cluster, HR_READERS, HR_TOPIC)).values()) == {0}


@pytest.mark.long_fault
@pytest.mark.timeout(900)  # ~3 minutes of dead-lettering on a busy 2-core machine, on top of the workload
async def test_malformed_burst_on_the_hr_feed(postgres, tmp_path: Path, clean_run: CleanRun, fault_rows) -> None:
    with start_cluster(postgres, tmp_path) as cluster:
        row, problems = await exercise(
            cluster,
            clean_run,
            f"{BURST:,} malformed on hr.events",
            send_burst,
            expected_dead_letters=dict.fromkeys(HR_READERS, BURST),
            caught_up=hr_lag_gone,
        )
        fault_rows.append(row)
        print(f"hr.events lag back to 0 after {row.caught_up_seconds} s")
        assert (row.lost, row.duplicated, problems) == (0, 0, []), problems
        assert row.dead_lettered == BURST * len(HR_READERS)
