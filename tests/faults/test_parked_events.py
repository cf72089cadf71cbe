"""An oversized event forced into profiles' outbox mid-workload is parked; nothing else waits for it.

Issue 19's case: a mentee's registration of 1.2 MB (30 interests of 40,000 characters), over what the
bus takes.  It is written straight into profiles' event store and outbox while people register,
past the append check (as a row from before the limit existed would be), with a later event of the
same aggregate behind it.  The relay parks both, in order; every other aggregate of profiles and
every other service flows on, the backlog drains and the end state equals the clean run's (the
forced events left out).  Then the operator sees them with ``mentorship outbox parked`` and drops them.

A long fault (``make faults``): the relay's parking is covered in the bounded CI run by
``tests/integration/test_outbox_relay.py`` on the real broker.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.faults.cluster import Cluster, start_cluster
from tests.faults.scenario import CleanRun, FaultRow, exercise
from tests.faults.workload import Workload

pytestmark = pytest.mark.long_fault

ROOT = Path(__file__).resolve().parents[2]
PROBE = "oversized-mentee"
INTERESTS, INTEREST_CHARS = 30, 40_000

_INSERT = """
WITH inserted AS (
    INSERT INTO events (event_id, stream_id, version, event_type, schema_version, occurred_at, correlation_id, data)
    VALUES ($1, $2, $3, $4, 1, now(), $1, $5::jsonb) RETURNING position
)
INSERT INTO outbox (position) SELECT position FROM inserted
"""


def registered_while_people_register(workload: Workload) -> bool:
    return workload.phase == "registering" and workload.api.stats.commands >= workload.plan.mentors


async def force_oversized_event(cluster: Cluster) -> float:
    """The 1.2 MB registration and a later edit of the same mentee, straight into profiles' outbox."""
    registration = {
        "participant_id": PROBE,
        "name": "Probe",
        "email": "probe@example.edu",
        "profile": {
            "biography": "",
            "specialty": "oncology",
            "career_stage": "trainee",
            "interests": [f"{i:02d}" + "x" * (INTEREST_CHARS - 2) for i in range(INTERESTS)],
        },
    }
    edit = {"participant_id": PROBE, "changes": [{"field": "profile.location", "old": None, "new": "Lyon"}]}
    conn = await asyncpg.connect(cluster.dsn("profiles"))
    try:
        async with conn.transaction():
            for version, (event_type, data) in enumerate(
                [("MenteeRegistered", registration), ("ProfileUpdated", edit)], start=1
            ):
                event_id = uuid.uuid4()
                cluster.poison_ids.add(str(event_id))
                await conn.execute(_INSERT, event_id, PROBE, version, event_type, json.dumps(data))
    finally:
        await conn.close()
    cluster.poison_ids.add(PROBE)  # its rows (events, parked) are left out of the comparison with the clean run
    return time.monotonic()


def outbox_cli(*args: str, dsn: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mentorship.cli", "outbox", *args, "--dsn", dsn],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


async def test_an_oversized_event_is_parked_and_nothing_else_waits(
    postgres, tmp_path: Path, clean_run: CleanRun, fault_rows: list[FaultRow]
) -> None:
    with start_cluster(postgres, tmp_path) as cluster:
        row, problems = await exercise(
            cluster,
            clean_run,
            "1.2 MB event in profiles' outbox",
            force_oversized_event,
            when=registered_while_people_register,
        )
        fault_rows.append(row)
        assert (row.lost, row.duplicated, problems) == (0, 0, []), problems

        dsn = cluster.dsn("profiles")
        conn = await asyncpg.connect(dsn)
        try:
            parked = await conn.fetch(
                "SELECT e.version, e.event_type, p.size_bytes, p.reason FROM outbox_parked p"
                " JOIN events e USING (position) WHERE p.stream_id = $1 ORDER BY p.position",
                PROBE,
            )
            assert await conn.fetchval("SELECT count(*) FROM outbox_parked WHERE stream_id <> $1", PROBE) == 0
        finally:
            await conn.close()
        assert [(r["version"], r["event_type"]) for r in parked] == [(1, "MenteeRegistered"), (2, "ProfileUpdated")]
        assert parked[0]["size_bytes"] > INTERESTS * INTEREST_CHARS and "over the bus's limit" in parked[0]["reason"]
        log = cluster.replica("profiles").log_path.read_text(errors="replace")
        assert '"event": "outbox event parked"' in log and PROBE in log
        async with httpx.AsyncClient(timeout=5) as client:
            metrics = (await client.get(f"{cluster.services['profiles'].url}/metrics")).text
        assert 'mentorship_outbox_parked{service="profiles"} 2.0' in metrics

        listed = await asyncio.to_thread(outbox_cli, "parked", dsn=dsn)
        assert listed.returncode == 0 and "2 parked events in 1 aggregate" in listed.stdout, listed.stderr
        assert PROBE in listed.stdout and "Traceback" not in listed.stderr
        dropped = await asyncio.to_thread(outbox_cli, "drop", PROBE, "--yes", dsn=dsn)
        assert dropped.returncode == 0 and "2 parked events" in dropped.stdout, dropped.stderr
        assert "no parked events" in (await asyncio.to_thread(outbox_cli, "parked", dsn=dsn)).stdout
