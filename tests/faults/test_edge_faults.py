"""Faults at the HTTP edge: a hostile body and an overload, on real processes.

* A 300 MiB anonymous POST (the bound CI case): answered 413 while the body is still streaming, the
  service's memory flat.  Before the edge limits the service read it all (9.7 s, 84 → 928 MiB), which kills a
  pod limited to 256 MiB.
* Overload at four times the knee (``long_fault``): the knee is measured first as ``bench/load.py`` measures it
  (its driver, its rule), then the same journeys are offered at four times that for a while, each process
  admitting 4 requests at once and 8 waiting (so that the overload reaches the services, not only the driver).
  Every answer is a success or a 503 (no other 5xx, no client timeout), and once the platform settles every
  command is whole: each stored stream's version equals its read model row's (profiles, matching,
  relationships), every stored event reached every consumer that handles it, nothing was dead-lettered.

The row's note holds the figures; the assertions are on statuses and consistency only (timings vary with the
machine, so they are printed, not asserted).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import asyncpg
import psutil
import pytest

from bench.load import Driver, percentile
from tests.faults import ledger
from tests.faults.cluster import Cluster, start_cluster
from tests.faults.scenario import FaultRow, all_ready, dead_letters, quiet, settle
from tests.raw_http import MIB, post

BODY_BYTES = 300 * MIB


async def peak_rss(process: psutil.Process, stop: asyncio.Event) -> int:
    peak = process.memory_info().rss
    while not stop.is_set():
        peak = max(peak, process.memory_info().rss)
        await asyncio.sleep(0.005)
    return max(peak, process.memory_info().rss)


async def test_a_300_mib_anonymous_body_is_413_at_once_with_memory_flat(postgres, tmp_path: Path, fault_rows) -> None:
    with start_cluster(postgres, tmp_path, names=("profiles",)) as cluster:
        replica = cluster.replica("profiles")
        process = psutil.Process(replica.process.pid)
        before = process.memory_info().rss
        stop = asyncio.Event()
        sampling = asyncio.create_task(peak_rss(process, stop))
        answer = await post(replica.url, "/mentees", {"Content-Type": "application/json"}, BODY_BYTES, send_body=True)
        stop.set()
        peak = await sampling
        ready_after = await all_ready(cluster, timeout=10)
        note = (
            f"413 after {answer.seconds * 1000:.0f} ms with {answer.body_sent / MIB:.0f} of 300 MiB sent;"
            f" RSS {before / MIB:.0f} -> peak {peak / MIB:.0f} MiB ({(peak - before) / MIB:+.1f})"
        )
        fault_rows.append(FaultRow("300 MiB anonymous POST /mentees", 0, 0, 0, ready_after, 0.0, 0, note=note))
        print(note)
        assert answer.status == 413
        assert answer.body_sent < BODY_BYTES  # refused while the client was still sending


# --- overload -------------------------------------------------------------------------------------------

KNEE_STEPS = (10.0, 20.0, 40.0, 80.0, 160.0)
STEP_SECONDS = 6.0
OVERLOAD_SECONDS = 20.0
SMALL_ADMISSION = {  # so that four times the knee is beyond what each process admits, and shedding happens
    "MENTORSHIP_HTTP_MAX_IN_FLIGHT": "4",
    "MENTORSHIP_HTTP_MAX_QUEUED": "8",
    "MENTORSHIP_HTTP_QUEUE_SECONDS": "0.25",
}
VIEWS = {  # service → (read model table, its stream id column): one row per stream, at the stream's version
    "profiles": ("participants", "participant_id"),
    "matching": ("requests", "request_id"),
    "relationships": ("relationship_view", "relationship_id"),
}


async def knee(driver: Driver) -> float:
    """The last step sustained at >= 90 % with no errors and p99 under a second (``bench/load.py``'s rule)."""
    found = KNEE_STEPS[0]
    for rate in KNEE_STEPS:
        started = time.monotonic()
        result = await driver.run_step(rate, STEP_SECONDS)
        sustained = len(result.latencies) / (time.monotonic() - started)
        p99 = percentile(result.latencies, 99) if result.latencies else 99.0
        print(
            f"knee search: {rate:g}/s offered, {sustained:.1f}/s sustained, p99 {p99 * 1000:.0f} ms,"
            f" errors: {result.failures_text()}"
        )
        if sustained < 0.9 * rate or result.errors or p99 >= 1.0:
            break
        found = rate
    return found


async def half_applied(cluster: Cluster) -> dict[str, int]:
    """Per service, streams whose read model row is missing or at another version than the stream."""
    found = {}
    for service, (table, key) in VIEWS.items():
        conn = await asyncpg.connect(cluster.dsn(service))
        try:
            found[service] = await conn.fetchval(
                f"SELECT count(*) FROM (SELECT stream_id, max(version) AS version FROM events GROUP BY stream_id) e"
                f" FULL JOIN {table} v ON v.{key} = e.stream_id WHERE e.version IS DISTINCT FROM v.version"
            )
        finally:
            await conn.close()
    return found


@pytest.mark.long_fault
async def test_overload_at_four_times_the_knee_is_shed_with_503_and_nothing_half_applied(
    postgres, tmp_path: Path, fault_rows
) -> None:
    with start_cluster(postgres, tmp_path, env=SMALL_ADMISSION) as cluster:
        driver = Driver(cluster.urls(), mentors=100, seed=11, max_in_flight=400)  # 2,000 slots: none runs out
        try:
            await driver.setup()
            rate = await knee(driver)
            started = time.monotonic()
            result = await driver.run_step(4 * rate, OVERLOAD_SECONDS)
            elapsed = time.monotonic() - started
        finally:
            await driver.client.aclose()
        over = time.monotonic()
        recovery = await all_ready(cluster)
        flight = await ledger.outbox_backlog(cluster)
        settled = await settle(cluster)
        settled_seconds = time.monotonic() - over
        unreached, twice = await ledger.unreached(cluster, settled.interests)
        broken = await half_applied(cluster)
        letters = await dead_letters(cluster)
        assert await quiet(cluster)
    failures: Counter[str] = result.failures
    server_errors = {cause: n for cause, n in failures.items() if cause.isdigit() and int(cause) >= 500}
    client_errors = {cause: n for cause, n in failures.items() if not cause.isdigit()}
    note = (
        f"knee {rate:g}/s; at {4 * rate:g}/s: {len(result.latencies)} done ({len(result.latencies) / elapsed:.0f}/s,"
        f" p99 {percentile(result.latencies, 99) * 1000:.0f} ms),"
        f" refused {result.failures_text()}, not sent {result.late}; half-applied {sum(broken.values())}"
    )
    print(note)
    fault_rows.append(
        FaultRow(
            f"overload 4x knee ({4 * rate:g}/s)",
            flight,
            unreached + sum(broken.values()),
            twice,
            recovery,
            settled_seconds,
            sum(letters.values()),
            note=note,
        )
    )
    assert set(server_errors) <= {"503"}, server_errors  # shed cleanly, never failed half-way
    assert client_errors == {}, client_errors  # no timeout, no reset connection: every request was answered
    assert broken == dict.fromkeys(VIEWS, 0), broken
    assert (unreached, twice) == (0, 0)
    assert set(letters.values()) == {0}, letters
