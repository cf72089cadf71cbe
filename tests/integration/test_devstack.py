"""The dev/test infrastructure itself: broker, Postgres and managed processes."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from mentorship.devstack import ManagedProcess, create_topics, start_broker, start_postgres

pytestmark = pytest.mark.integration


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
