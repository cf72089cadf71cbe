"""The generic consumer path's CPU per record: ``IdempotentConsumer.process_batch`` against a bare loop.

Both take the same records (``MentorRegistered`` envelopes as the relay publishes them, with its headers; a share
``--ignored`` of them of a type the group does not handle, as each group reads whole topics) in batches and, per
batch, one transaction that records the batch's handled event ids in one statement and inserts one row per such
record; the bare loop skips the records its ``event_type`` header says it does not handle, parses the others with
``json.loads`` and runs the same statements, nothing else.  What the platform adds (envelope and payload
validation, inbox, logging, metrics, context binding) is the difference, printed as CPU per record of this process
(``time.process_time``: the database's own work is in another process).  The two take their batches in turn (the
machine is shared: whatever else runs falls on both alike), ``--rounds`` times per batch size; the medians are
printed.

    python -m bench.consumer [--records 5000] [--batch 1,10,100] [--ignored 0.4] [--rounds 3] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

from bench.common import fresh_database, mentor_registered, migrated, postgres_server, service_logs_kept_out, table
from shared.bus import message_headers
from shared.db import create_pool
from shared.envelope import Envelope
from shared.events.profiles import MentorCapacityChanged
from shared.inbox import Delivery, IdempotentConsumer

TOPIC = "profiles.events"
HANDLED = b"MentorRegistered"
INSERT_EFFECT = "INSERT INTO bench_effect (id, name) VALUES ($1, $2)"
EFFECT = "CREATE TABLE IF NOT EXISTS bench_effect (id text PRIMARY KEY, name text NOT NULL)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.consumer", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000, help="records per measurement")
    parser.add_argument("--batch", default="1,10,100", help="batch sizes, comma-separated")
    parser.add_argument("--ignored", type=float, default=0.4, help="share of records of a type the group ignores")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per batch size (the median is printed)")
    parser.add_argument("--profile", help="write a cProfile of the platform's path (largest batch) here")
    args = parser.parse_args(argv)
    args.batches = [int(b) for b in args.batch.split(",")]
    if args.records < 100 or min(args.batches) < 1 or args.rounds < 1:
        parser.error("--records must be >= 100, batch sizes and --rounds >= 1")
    if not 0 <= args.ignored < 1:
        parser.error("--ignored must be in [0, 1)")
    return args


def deliveries(n: int, ignored: float = 0.0) -> list[Delivery]:
    """Records as the relay publishes them: a structured-mode envelope whose data is a registration, or, for every
    ``ignored`` share of them, a capacity change (a type the bench's group does not handle)."""
    registered = mentor_registered("m")
    out, skipped = [], 0.0
    for offset in range(n):
        mentor = f"bench-{uuid.uuid4().hex[:12]}"
        skipped += ignored
        if skipped >= 1:
            skipped -= 1
            event = MentorCapacityChanged(participant_id=mentor, old_capacity=1, new_capacity=2)
            data = event.model_dump(mode="json")
        else:
            event = registered
            data = event.model_dump(mode="json") | {"participant_id": mentor}
        envelope = Envelope(
            id=uuid.uuid4(),
            source="/services/profiles",
            type=event.type_name(),
            time=datetime.now(UTC),
            subject=mentor,
            correlationid=uuid.uuid4(),
            sequence=1,
            schemaversion=event.schema_version,
            data=data,
        )
        headers = tuple(message_headers(envelope.type, envelope.id))
        out.append(Delivery(envelope.to_bytes(), TOPIC, 0, offset, mentor.encode(), headers))
    return out


class Platform:
    """``IdempotentConsumer.process_batch`` with a handler that inserts the record's row."""

    def __init__(self, pool) -> None:
        async def registered(conn, event, envelope) -> None:
            await conn.execute(INSERT_EFFECT, event.participant_id, event.name)

        self.consumer = IdempotentConsumer(pool, f"bench-{uuid.uuid4().hex[:6]}", {HANDLED.decode(): registered}, None)

    async def take(self, records: list[Delivery]) -> None:
        outcomes = await self.consumer.process_batch(records)
        assert all(o in ("handled", "ignored") for o in outcomes), outcomes


class Bare:
    """The same statements with nothing around them: header routing, ``json.loads``, one transaction."""

    def __init__(self, pool) -> None:
        self.pool, self.group = pool, f"bare-{uuid.uuid4().hex[:6]}"

    async def take(self, records: list[Delivery]) -> None:
        values = [json.loads(d.value) for d in records if dict(d.headers)["event_type"] == HANDLED]
        if not values:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO inbox (consumer_group, event_id, event_type)"
                " SELECT $1, e.id, e.type FROM unnest($2::uuid[], $3::text[]) AS e(id, type) ON CONFLICT DO NOTHING",
                self.group,
                [v["id"] for v in values],
                [v["type"] for v in values],
            )
            for v in values:  # a handler's statement per record, as the platform's
                await conn.execute(INSERT_EFFECT, v["data"]["participant_id"], v["data"]["name"])


async def measure(pool, args: argparse.Namespace, batch: int, profile: cProfile.Profile | None) -> tuple[float, float]:
    """CPU seconds of the platform and of the bare loop over ``--records`` each, taking their batches in turn (the
    machine's other load falls on both alike)."""
    ours, raw = deliveries(args.records, args.ignored), deliveries(args.records, args.ignored)
    platform, bare = Platform(pool), Bare(pool)
    spent = [0.0, 0.0]
    for i in range(0, args.records, batch):
        started = time.process_time()
        if profile is not None:
            profile.enable()
        await platform.take(ours[i : i + batch])
        if profile is not None:
            profile.disable()
        between = time.process_time()
        await bare.take(raw[i : i + batch])
        spent[0] += between - started
        spent[1] += time.process_time() - between
    return spent[0], spent[1]


async def run(args: argparse.Namespace, dsn: str) -> None:
    await migrated(dsn)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    rows = []
    try:
        await pool.execute(EFFECT)
        per = 1e6 / args.records
        for batch in args.batches:
            ours, raw = [], []
            for _ in range(args.rounds):
                platform, bare = await measure(pool, args, batch, None)
                ours.append(platform * per)
                raw.append(bare * per)
                print(f"batch {batch}: platform {ours[-1]:.0f} µs/record, bare {raw[-1]:.0f} µs/record", flush=True)
            ours_median, raw_median = statistics.median(ours), statistics.median(raw)
            rows.append([batch, f"{ours_median:.0f}", f"{raw_median:.0f}", f"{ours_median / raw_median:.2f}"])
        if args.profile:
            profile = cProfile.Profile()
            await measure(pool, args, max(args.batches), profile)
            profile.dump_stats(args.profile)
            print(f"profile of the platform at batch {max(args.batches)} written to {args.profile}")
    finally:
        await pool.close()
    print(f"\nmedians of {args.rounds} round(s), {args.ignored:.0%} of the records of a type the group ignores")
    print(table(["batch", "platform µs/record", "bare µs/record", "platform/bare"], rows))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with service_logs_kept_out(), postgres_server() as pg, fresh_database(pg, "bench_consumer") as dsn:
        asyncio.run(run(args, dsn))


if __name__ == "__main__":
    sys.exit(main())
