"""Batch projection on the real broker and Postgres: rows do not depend on the batch size, a killed
replay resumes to the same rows, and the folded counters match the events they come from."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import asyncpg
import pytest

from bench.replay import OWNERS, messages
from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import build_indexes, create_generation
from services.analytics.projecting.projector import Projector
from shared.bus import ensure_topics, new_producer
from shared.db import migrate, migrations_from_package

pytestmark = pytest.mark.integration

EVENTS = 700  # the seeded history's first 700 events: mentors, mentees, requests, relationships with meetings


@pytest.fixture
async def history(
    pool: asyncpg.Pool, broker, topic_name
) -> tuple[asyncpg.Pool, list[str], list[tuple[str, bytes, bytes]]]:
    """The seeded program history on every topic, plus republished copies (some next to their original,
    so inside one batch, some far from it) and a record that is not an event."""
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    topics = {owner: f"{topic_name}.{owner}" for owner in OWNERS}
    await ensure_topics(broker.bootstrap, list(topics.values()), partitions=2)
    records = list(messages(EVENTS))
    sent = records + records[100:110]
    sent[50:50] = records[40:50]
    producer = new_producer(broker.bootstrap, linger_ms=20)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topics[owner], value, key=key) for owner, key, value in sent])
        await producer.send_and_wait(topics["relationships"], b"not an event", key=b"x")
    finally:
        await producer.stop()
    return pool, list(topics.values()), records


async def generation(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return await create_generation(conn)


async def project(pool, broker, topics, gen: int, batch_size: int, prepare_in: str = "thread"):
    projector = Projector(pool, broker.bootstrap, gen, topics, batch_size=batch_size, prepare_in=prepare_in)
    return await projector.run(asyncio.Event(), until_caught_up=True)


async def every_row(pool: asyncpg.Pool, gen: int) -> dict[str, list[tuple]]:
    """Every table of the generation, every column but the timeline's insertion counter, in a fixed order."""
    schema = schema_name(gen)
    tables = [
        r["table_name"]
        for r in await pool.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'checkpoints'"
            " ORDER BY table_name",
            schema,
        )
    ]
    rows = {}
    for table in tables:
        columns = [
            r["column_name"]
            for r in await pool.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
                " AND column_name <> 'seq' ORDER BY ordinal_position",
                schema,
                table,
            )
        ]
        listed = ", ".join(f"{c}::text" for c in columns)
        rows[table] = [tuple(r) for r in await pool.fetch(f"SELECT {listed} FROM {schema}.{table} ORDER BY {listed}")]
    return rows


async def test_rows_are_the_same_whatever_the_batch_size(history, broker) -> None:
    """Three records per batch (streams split across many transactions) against everything in one."""
    pool, topics, _ = history
    one, many = await generation(pool), await generation(pool)
    by_one = await project(pool, broker, topics, one, batch_size=3)
    by_many = await project(pool, broker, topics, many, batch_size=10_000)

    assert (by_one.read, by_one.applied, by_one.skipped_invalid) == (EVENTS + 21, EVENTS, 1)
    assert (by_many.read, by_many.applied, by_many.skipped_invalid) == (EVENTS + 21, EVENTS, 1)
    one_rows, many_rows = await every_row(pool, one), await every_row(pool, many)
    assert set(one_rows) >= {"timeline_events", "participants", "requests", "program_relationships", "survey_answers"}
    assert all(one_rows[table] for table in ("timeline_events", "participants", "requests", "program_relationships"))
    assert one_rows == many_rows


async def test_rows_prepared_in_a_worker_process_are_the_same(history, broker) -> None:
    """A replay prepares rows in a worker process (the events stay there); the copies, found only in the
    database, are then left out from events decoded again here. Same rows as a worker thread's."""
    pool, topics, _ = history
    by_thread, by_process = await generation(pool), await generation(pool)
    await project(pool, broker, topics, by_thread, batch_size=10_000)
    progress = await project(pool, broker, topics, by_process, batch_size=40, prepare_in="process")

    assert (progress.read, progress.applied, progress.skipped_invalid) == (EVENTS + 21, EVENTS, 1)
    assert await every_row(pool, by_process) == await every_row(pool, by_thread)


async def test_folded_counters_match_the_events(history, broker) -> None:
    """Meetings, lagging spells and the lagging flag (a meeting after a lagging spell clears it, also
    within one batch) counted straight from the events."""
    pool, topics, records = history
    gen = await generation(pool)
    await project(pool, broker, topics, gen, batch_size=10_000)

    meetings, spells, lagging = Counter(), Counter(), {}
    for _, _, value in records:
        event = json.loads(value)
        relationship = event["data"].get("relationship_id")
        if event["type"] == "MeetingLogged":
            meetings[relationship] += 1
            lagging[relationship] = False
        elif event["type"] == "RelationshipLagging":
            spells[relationship] += 1
            lagging[relationship] = True
        elif event["type"] == "RelationshipClosed":
            lagging[relationship] = False
    rows = await pool.fetch(
        f"SELECT relationship_id, meetings, lagging_spells, lagging FROM {schema_name(gen)}.program_relationships"
    )
    assert len(rows) > 5 and sum(spells.values()) > 0 and any(lagging.values())
    assert {r["relationship_id"]: (r["meetings"], r["lagging_spells"], r["lagging"]) for r in rows} == {
        rel: (meetings[rel], spells[rel], lagging.get(rel, False)) for rel in {r["relationship_id"] for r in rows}
    }


@pytest.mark.parametrize("prepare_in", ["thread", "process"])
async def test_a_replay_killed_mid_batch_resumes_to_the_same_rows(history, broker, prepare_in) -> None:
    pool, topics, _ = history
    clean, resumed = await generation(pool), await generation(pool)
    await project(pool, broker, topics, clean, batch_size=50)

    killed = Projector(pool, broker.bootstrap, resumed, topics, batch_size=50, prepare_in=prepare_in)
    running = asyncio.create_task(killed.run(asyncio.Event(), until_caught_up=True))
    while killed.progress.applied < 200 and not running.done():
        await asyncio.sleep(0.001)
    running.cancel()  # wherever it is: fetching, decoding, or inside a batch's transaction
    with pytest.raises(asyncio.CancelledError):
        await running
    assert 200 <= killed.progress.applied < EVENTS
    committed = await pool.fetchval(f"SELECT count(*) FROM {schema_name(resumed)}.projected_events")
    assert 0 < committed < EVENTS

    rest = await project(pool, broker, topics, resumed, batch_size=50, prepare_in=prepare_in)
    assert rest.applied == EVENTS - committed
    assert await every_row(pool, resumed) == await every_row(pool, clean)


async def indexes(pool: asyncpg.Pool, gen: int) -> list[str]:
    schema = schema_name(gen)
    return sorted(
        r[0].replace(f"{schema}.", "").replace(f"{schema}_", "")
        for r in await pool.fetch("SELECT indexdef FROM pg_indexes WHERE schemaname = $1", schema)
    )


async def test_a_rebuild_indexes_after_projecting_and_ends_with_the_same_rows_and_indexes(history, broker) -> None:
    """A replay projects into a generation with only its keys and builds the secondary indexes at the end."""
    pool, topics, _ = history
    normal = await generation(pool)
    async with pool.acquire() as conn:
        deferred = await create_generation(conn, defer_indexes=True)
    assert len(await indexes(pool, deferred)) < len(await indexes(pool, normal))
    await project(pool, broker, topics, normal, batch_size=10_000)
    await project(pool, broker, topics, deferred, batch_size=10_000)
    async with pool.acquire() as conn:
        await build_indexes(conn, deferred)

    assert await indexes(pool, deferred) == await indexes(pool, normal)
    assert await every_row(pool, deferred) == await every_row(pool, normal)


async def test_an_event_a_projection_cannot_use_is_skipped_and_the_batch_still_commits(
    pool: asyncpg.Pool, broker, topic_name
) -> None:
    """A valid envelope whose payload lacks what a projection needs (an older or broken producer)."""
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    topic = f"{topic_name}.relationships"
    await ensure_topics(broker.bootstrap, [topic], partitions=1)
    good = [value for owner, _, value in messages(400) if owner == "relationships"][:30]
    broken = json.loads(good[0])
    broken.update(
        id="00000000-0000-4000-8000-000000000001",
        type="RelationshipStarted",
        data={
            "relationship_id": "rel-broken",
            "model": "one_to_one",
            "mentor_id": "a",
            "mentee_ids": ["b"],
            "match_id": "match-broken",
            "started_on": "not a date",
        },
    )
    producer = new_producer(broker.bootstrap)
    await producer.start()
    try:
        for value in [json.dumps(broken).encode(), *good]:
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()
    gen = await generation(pool)
    progress = await project(pool, broker, [topic], gen, batch_size=10_000)

    assert (progress.read, progress.applied) == (31, 31)
    schema = schema_name(gen)
    relationships = {r[0] for r in await pool.fetch(f"SELECT relationship_id FROM {schema}.program_relationships")}
    started = {json.loads(v)["data"]["relationship_id"] for v in good if json.loads(v)["type"] == "RelationshipStarted"}
    assert started and relationships == started  # the broken start left no program row, the others all did
    # the timeline needs no date from it, so it keeps the event
    assert await pool.fetchval(f"SELECT count(*) FROM {schema}.timeline_events WHERE stream_id = 'rel-broken'") == 1
