"""The generic consumer path's CPU per record: ``IdempotentConsumer.process_batch`` against a bare loop.

Both take the same records (``MentorRegistered`` envelopes as the relay publishes them) in batches and, per
batch, one transaction that records the batch's event ids in one statement and inserts one row per record; the
bare loop parses the value with ``json.loads`` and runs the same statements, nothing else.  What the platform adds
(envelope and payload validation, inbox, logging, metrics, context binding) is the difference, printed as CPU
per record of this process (``time.process_time``: the database's own work is in another process).

    python -m bench.consumer [--records 5000] [--batch 1,10,100] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime

from bench.common import fresh_database, mentor_registered, migrated, postgres_server, table
from shared.db import create_pool
from shared.envelope import Envelope
from shared.inbox import Delivery, IdempotentConsumer
from shared.logging import configure_logging

TOPIC = "profiles.events"
INSERT_EFFECT = "INSERT INTO bench_effect (id, name) VALUES ($1, $2)"
EFFECT = "CREATE TABLE IF NOT EXISTS bench_effect (id text PRIMARY KEY, name text NOT NULL)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.consumer", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000, help="records per measurement")
    parser.add_argument("--batch", default="1,10,100", help="batch sizes, comma-separated")
    parser.add_argument("--profile", help="write a cProfile of the platform's path (largest batch) here")
    args = parser.parse_args(argv)
    args.batches = [int(b) for b in args.batch.split(",")]
    if args.records < 100 or min(args.batches) < 1:
        parser.error("--records must be >= 100 and batch sizes >= 1")
    return args


def deliveries(n: int) -> list[Delivery]:
    """Records as the relay publishes them: a structured-mode envelope whose data is a registration."""
    event = mentor_registered("m")
    out = []
    for offset in range(n):
        mentor = f"bench-{uuid.uuid4().hex[:12]}"
        data = event.model_dump(mode="json") | {"participant_id": mentor}
        envelope = Envelope(
            id=uuid.uuid4(),
            source="/services/profiles",
            type="MentorRegistered",
            time=datetime.now(UTC),
            subject=mentor,
            correlationid=uuid.uuid4(),
            sequence=1,
            schemaversion=event.schema_version,
            data=data,
        )
        headers = (("content-type", b"application/cloudevents+json"), ("event_type", b"MentorRegistered"))
        out.append(Delivery(envelope.to_bytes(), TOPIC, 0, offset, mentor.encode(), headers))
    return out


async def platform(pool, records: list[Delivery], batch: int, profile: cProfile.Profile | None) -> float:
    async def registered(conn, event, envelope) -> None:
        await conn.execute(INSERT_EFFECT, event.participant_id, event.name)

    consumer = IdempotentConsumer(pool, f"bench-{uuid.uuid4().hex[:6]}", {"MentorRegistered": registered}, None)
    started = time.process_time()
    if profile is not None:
        profile.enable()
    for i in range(0, len(records), batch):
        outcomes = await consumer.process_batch(records[i : i + batch])
        assert all(o == "handled" for o in outcomes), outcomes
    if profile is not None:
        profile.disable()
    return time.process_time() - started


async def bare(pool, records: list[Delivery], batch: int) -> float:
    group = f"bare-{uuid.uuid4().hex[:6]}"
    started = time.process_time()
    for i in range(0, len(records), batch):
        values = [json.loads(d.value) for d in records[i : i + batch]]
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO inbox (consumer_group, event_id, event_type)"
                " SELECT $1, e.id, e.type FROM unnest($2::uuid[], $3::text[]) AS e(id, type) ON CONFLICT DO NOTHING",
                group,
                [v["id"] for v in values],
                [v["type"] for v in values],
            )
            for v in values:  # a handler's statement per record, as the platform's
                await conn.execute(INSERT_EFFECT, v["data"]["participant_id"], v["data"]["name"])
    return time.process_time() - started


async def run(args: argparse.Namespace, dsn: str) -> None:
    await migrated(dsn)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    rows = []
    try:
        await pool.execute(EFFECT)
        for batch in args.batches:
            ours = await platform(pool, deliveries(args.records), batch, None)
            raw = await bare(pool, deliveries(args.records), batch)
            per = 1e6 / args.records
            rows.append([batch, f"{ours * per:.0f}", f"{raw * per:.0f}", f"{ours / raw:.2f}"])
            print(f"batch {batch}: platform {ours * per:.0f} µs/record, bare {raw * per:.0f} µs/record", flush=True)
        if args.profile:
            profile = cProfile.Profile()
            await platform(pool, deliveries(args.records), max(args.batches), profile)
            profile.dump_stats(args.profile)
            print(f"profile of batch {max(args.batches)} written to {args.profile}")
    finally:
        await pool.close()
    print()
    print(table(["batch", "platform µs/record", "bare µs/record", "platform/bare"], rows))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Log lines as a service writes them (JSON to stderr), kept out of the terminal.
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        configure_logging("bench", "INFO", True)
        with postgres_server() as pg, fresh_database(pg, "bench_consumer") as dsn:
            asyncio.run(run(args, dsn))
    finally:
        os.dup2(saved, 2)


if __name__ == "__main__":
    sys.exit(main())
