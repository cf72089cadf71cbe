"""The dev/test infrastructure itself: broker, Postgres and managed processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from mentorship.devstack import ManagedProcess, create_topics, start_broker, start_postgres
from mentorship.devstack.datadir import DataDirInUse, claim, queue_refill
from mentorship.devstack.postgres import start_kept_postgres
from services.analytics.generation_names import schema_name
from services.analytics.projecting.checkpoints import save
from services.analytics.projecting.generations import ensure_live
from shared.db import create_pool, migrate, migrations_from_package
from shared.events.profiles import MentorCapacityChanged
from shared.eventstore import EventStore

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


async def _roundtrip(bootstrap: str, topic: str) -> tuple[int, bytes, bytes]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"k1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"g-{uuid.uuid4().hex}", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    return len(described["partitions"]), record.key, record.value


def test_broker_topic_produce_consume() -> None:
    topic = f"devstack-{uuid.uuid4().hex[:8]}"
    with start_broker() as broker:
        create_topics(broker.bootstrap, [topic], partitions=3)
        create_topics(broker.bootstrap, [topic], partitions=3)  # idempotent
        partitions, key, value = asyncio.run(_roundtrip(broker.bootstrap, topic))
    assert (partitions, key, value) == (3, b"k1", b"hello")


async def _query(dsn: str) -> tuple[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT current_database()"), await conn.fetchval("SELECT 40 + 2")
    finally:
        await conn.close()


def test_postgres_databases() -> None:
    suffix = uuid.uuid4().hex[:8]
    names = [f"devstack_a_{suffix}", f"devstack-B_{suffix}"]  # the second needs quoting
    with start_postgres() as pg:
        for name in names:
            pg.create_database(name)
            pg.create_database(name)  # safe to call twice
        pg.create_database(names[0], drop_existing=True)
        try:
            for name in names:
                assert asyncio.run(_query(pg.dsn_for(name))) == (name, 42)
        finally:
            for name in names:  # the server may be a shared one (MENTORSHIP_PG_DSN)
                pg.drop_database(name)
        data_dir = pg.data_dir
    if data_dir is not None:  # embedded: the server is gone with the context
        leftovers = [
            p
            for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "postgres" and str(data_dir) in (p.info["cmdline"] or [])
        ]
        assert leftovers == []


def test_managed_process_stopped_on_exception() -> None:
    with pytest.raises(RuntimeError, match="boom"), ManagedProcess(["sleep", "1000"]) as proc:
        pid = proc.pid
        assert proc.is_running()
        raise RuntimeError("boom")
    assert pid is not None
    assert not proc.is_running()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_data_directory_is_used_by_one_stack_at_a_time(tmp_path) -> None:
    with claim(tmp_path / "pilot") as data:
        assert data.postgres == (tmp_path / "pilot" / "postgres").resolve()
        with pytest.raises(DataDirInUse, match=rf"in use by a running stack \(pid {os.getpid()}\)"), claim(data.path):
            pass
    with claim(tmp_path / "pilot"):  # the lock went with the stack
        pass


def test_a_crashed_stack_leaves_nothing_running_on_the_next_start(tmp_path) -> None:
    """``dev up`` killed alone: its children (own process groups) live on; the next start stops them first."""
    stack = subprocess.Popen(
        [sys.executable, "-c", CRASHING_STACK, str(tmp_path / "pilot")], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    child = psutil.Process(int(stack.stdout.readline()))
    stack.kill()
    stack.wait(10)
    assert child.is_running()
    with claim(tmp_path / "pilot"):
        assert not child.is_running()


CRASHING_STACK = """
import sys, time
from pathlib import Path
from mentorship.devstack import ManagedProcess
from mentorship.devstack.datadir import claim
with claim(Path(sys.argv[1])) as data:
    child = ManagedProcess(["sleep", "1000"]).start()
    data.record_processes()
    print(child.pid, flush=True)
    time.sleep(1000)
"""


def test_a_bench_killed_leaves_none_of_its_stack_running(tmp_path) -> None:
    """A bench's stack dies with it, however it dies: killed with SIGKILL, no clean-up of its own runs, yet its
    Postgres server, its broker, a managed process and that process's own child are all stopped (the reaper)."""
    owner = subprocess.Popen(
        [sys.executable, "-c", TIED_STACK, str(tmp_path / "pg")], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        stack = [psutil.Process(int(pid)) for pid in owner.stdout.readline().split()]
    finally:
        owner.kill()
        owner.wait(10)
    names = {p.pid: p.name() for p in stack}
    assert "postgres" in names.values() and "sleep" in names.values() and len(stack) >= 5, names

    def running() -> list[int]:
        alive = []
        for proc in stack:
            with contextlib.suppress(psutil.NoSuchProcess):
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc.pid)
        return alive

    deadline = time.monotonic() + 60  # a bound on waiting, not on speed: the reaper allows 5 s per stage
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running() == [], {pid: names[pid] for pid in running()}


TIED_STACK = """
import os, sys, time
from pathlib import Path
import psutil
from mentorship.devstack import ManagedProcess
from mentorship.devstack.broker import start_tansu
from mentorship.devstack.postgres import start_kept_postgres
from mentorship.devstack.processes import die_with_this_process
die_with_this_process()
with start_kept_postgres(Path(sys.argv[1])) as pg, start_tansu() as broker:
    child = ManagedProcess(["sh", "-c", "sleep 1000 & exec sleep 1001"]).start()
    while len(psutil.Process(child.pid).children()) < 1:
        time.sleep(0.05)
    postmaster = int((Path(sys.argv[1]) / "postmaster.pid").read_text().split()[0])
    ours = [p.pid for p in psutil.Process().children(recursive=True)]
    print(postmaster, *ours, flush=True)
    time.sleep(1000)
"""


def test_kept_postgres_starts_again_on_its_data_after_a_stale_postmaster_pid(tmp_path) -> None:
    pgdata = tmp_path / "pilot" / "postgres"
    with start_kept_postgres(pgdata) as pg:
        pg.create_database("kept")
        asyncio.run(_execute(pg.dsn_for("kept"), "CREATE TABLE facts (n int); INSERT INTO facts VALUES (42)"))
    # After a reboot the pid in a postmaster.pid left by kill -9 may belong to another program:
    # Postgres would refuse to start while that process lives.
    with ManagedProcess(["sleep", "1000"]) as stranger:
        pid_file = pgdata / "postmaster.pid"
        pid_file.write_text("\n".join([str(stranger.pid), str(pgdata), "0", "5432", str(pgdata), "", "0 0", "ready"]))
        with start_kept_postgres(pgdata) as pg:
            assert asyncio.run(_fetchval(pg.dsn_for("kept"), "SELECT n FROM facts")) == 42
        assert stranger.is_running()


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _fetchval(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_a_start_on_kept_databases_queues_every_event_and_restarts_analytics(pool, postgres) -> None:
    """What ``dev up --data`` does before the services start: the outbox holds the whole store again, and
    analytics' checkpoints (offsets on the broker that is gone) are cleared, its applied-event ids kept."""
    store = EventStore("profiles")
    async with pool.acquire() as conn:
        for i in range(3):
            changed = MentorCapacityChanged(participant_id=f"m-{i}", old_capacity=1, new_capacity=2)
            async with conn.transaction():
                await store.append(conn, f"m-{i}", 0, [changed])
        await conn.execute("DELETE FROM outbox")  # published before the crash
    analytics = postgres.create_database(f"t_{uuid.uuid4().hex[:16]}")
    try:
        analytics_pool = await create_pool(analytics, min_size=1, max_size=2)
        try:
            await migrate(analytics_pool, migrations_from_package("services.analytics.migrations"))
            generation = await ensure_live(analytics_pool)
            schema = schema_name(generation)
            async with analytics_pool.acquire() as conn, conn.transaction():
                await save(conn, schema, {("profiles.events", 0): 3})
                await conn.execute(f"INSERT INTO {schema}.projected_events VALUES (gen_random_uuid())")
            publisher_dsn = await pool.fetchval("SELECT current_database()")
            missing = postgres.dsn_for("not_created_yet")
            queued = await queue_refill(
                {"profiles": postgres.dsn_for(publisher_dsn), "analytics": analytics, "matching": missing}
            )
            assert queued == {"profiles": 3}
            assert await pool.fetchval("SELECT count(*) FROM outbox") == 3
            assert await analytics_pool.fetchval(f"SELECT count(*) FROM {schema}.checkpoints") == 0
            assert await analytics_pool.fetchval(f"SELECT count(*) FROM {schema}.projected_events") == 1
        finally:
            await analytics_pool.close()
    finally:
        postgres.drop_database(analytics.rsplit("/", 1)[-1].split("?")[0])
