"""The live projector: one replica projects, the others stand by; a generation of an older shape is rebuilt."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace

import asyncpg
import pytest

from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import (
    SHAPE,
    create_generation,
    generation_shape,
    live_generation,
    make_live,
)
from services.analytics.projecting.live import LIVE_PROJECTOR_LOCK, project_live
from services.analytics.projecting.replay import ReplayAlreadyRunning, Replays
from shared.bus import all_event_topics, ensure_topics, new_producer, topic_for
from shared.db import create_pool, migrate, migrations_from_package, shared_migrations
from shared.envelope import Envelope
from shared.events.relationships import MeetingLogged
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


def meeting(relationship_id: str) -> Envelope:
    event = MeetingLogged(
        relationship_id=relationship_id,
        meeting_id=f"mt-{uuid.uuid4().hex[:8]}",
        held_on=date(2026, 3, 1),
        duration_minutes=30,
        format="video",
        topic_tags=["goals"],
    )
    return Envelope(
        id=uuid.uuid4(),
        source="/services/relationships",
        type=event.type_name(),
        time=datetime.now(UTC),
        subject=relationship_id,
        correlationid=uuid.uuid4(),
        sequence=1,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
    )


async def holders(pool: asyncpg.Pool) -> list[str]:
    """Application names of the sessions holding the live projector's lock."""
    return [
        r["application_name"]
        for r in await pool.fetch(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1",
            LIVE_PROJECTOR_LOCK,
        )
    ]


async def until(condition, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


class Replica:
    """What ``project_live`` needs of a runtime, with its own pool as a separate process would have."""

    def __init__(self, name: str, dsn: str, bootstrap: str) -> None:
        self.name, self.bootstrap = name, bootstrap
        self.dsn = f"{dsn}{'&' if '?' in dsn else '?'}application_name={name}"
        self.stop = asyncio.Event()

    async def start(self) -> None:
        self.pool = await create_pool(self.dsn, min_size=1, max_size=4)
        settings = ServiceSettings(service_name="analytics", pg_dsn=self.dsn, kafka_bootstrap=self.bootstrap)
        self.task = asyncio.create_task(project_live(SimpleNamespace(pool=self.pool, settings=settings), self.stop))

    async def halt(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=30)
        await self.pool.close()


async def test_one_replica_projects_the_other_takes_over(fresh_dsn: str, broker) -> None:
    setup = await create_pool(fresh_dsn, min_size=1, max_size=2)
    await migrate(setup, [*shared_migrations(), *migrations_from_package("services.analytics.migrations")])
    await ensure_topics(broker.bootstrap, all_event_topics(), partitions=3)
    producer = new_producer(broker.bootstrap)
    await producer.start()
    first, second = Replica("replica-a", fresh_dsn, broker.bootstrap), Replica("replica-b", fresh_dsn, broker.bootstrap)

    async def projected(envelope: Envelope) -> bool:
        generation = await live_generation(setup)
        return generation is not None and bool(
            await setup.fetchval(
                f"SELECT count(*) FROM {schema_name(generation)}.timeline_events WHERE event_id = $1", envelope.id
            )
        )

    try:
        await first.start()
        await until(lambda: _held_by(setup, "replica-a"))
        await second.start()
        before = meeting("rel-lock-1")
        await producer.send_and_wait(topic_for("relationships"), before.to_bytes(), key=b"rel-lock-1")
        await until(lambda: projected(before))
        assert await holders(setup) == ["replica-a"]

        await first.halt()  # the holder goes away: the standby takes the lock and carries on
        await until(lambda: _held_by(setup, "replica-b"))
        after = meeting("rel-lock-2")
        await producer.send_and_wait(topic_for("relationships"), after.to_bytes(), key=b"rel-lock-2")
        await until(lambda: projected(after))
        assert await holders(setup) == ["replica-b"]
    finally:
        await producer.stop()
        for replica in (first, second):
            if not replica.stop.is_set() and hasattr(replica, "task"):
                await replica.halt()
        await setup.close()


async def _held_by(setup: asyncpg.Pool, name: str) -> bool:
    return await holders(setup) == [name]


async def test_a_live_generation_built_by_an_older_version_is_rebuilt_and_swapped_in(fresh_dsn: str, broker) -> None:
    setup = await create_pool(fresh_dsn, min_size=1, max_size=2)
    await migrate(setup, [*shared_migrations(), *migrations_from_package("services.analytics.migrations")])
    await ensure_topics(broker.bootstrap, all_event_topics(), partitions=3)
    async with setup.acquire() as conn:  # what an older version left: a live generation of another shape
        outdated = await create_generation(conn)
        await make_live(conn, outdated)
        await conn.execute("UPDATE projection_generations SET shape = 'older' WHERE generation = $1", outdated)
    event = meeting("rel-upgrade")
    producer = new_producer(broker.bootstrap)
    await producer.start()
    replica = Replica("upgraded", fresh_dsn, broker.bootstrap)
    try:
        await producer.send_and_wait(topic_for("relationships"), event.to_bytes(), key=b"rel-upgrade")
        await replica.start()

        async def rebuilt() -> bool:
            live = await live_generation(setup)
            return live != outdated and bool(
                await setup.fetchval(
                    f"SELECT count(*) FROM {schema_name(live)}.timeline_events WHERE event_id = $1", event.id
                )
            )

        await until(rebuilt)
        live = await live_generation(setup)
        assert await generation_shape(setup, live) == SHAPE
        assert not await setup.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema_name(outdated))
        indexes = await setup.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexdef NOT LIKE '%UNIQUE%'", schema_name(live)
        )
        assert indexes > 0  # the secondary indexes a rebuild defers were built before serving it
    finally:
        await producer.stop()
        await replica.halt()
        await setup.close()


async def test_one_replay_at_a_time_across_replicas(fresh_dsn: str, broker) -> None:
    setup = await create_pool(fresh_dsn, min_size=1, max_size=2)
    await migrate(setup, [*shared_migrations(), *migrations_from_package("services.analytics.migrations")])
    await ensure_topics(broker.bootstrap, all_event_topics(), partitions=3)
    pools = [await create_pool(fresh_dsn, min_size=1, max_size=4) for _ in range(2)]  # two replicas
    first, second = (Replays(pool, broker.bootstrap, all_event_topics()) for pool in pools)
    try:
        running = await first.start(None, 0)
        with pytest.raises(ReplayAlreadyRunning, match="another replica"):
            await second.start(None, 0)

        async def finished() -> bool:
            return running.state != "running"

        await until(finished, timeout=60)
        assert running.state == "live", running.error
        again = await second.start(None, 0)  # the lock went with the first replay
        assert again.generation > running.generation
        await second.stop()
    finally:
        for pool in pools:
            await pool.close()
        await setup.close()
