"""Offset commits: the consumer path's CPU per record, in its process and in the broker, by commit interval.

The real path (``shared.subscription.subscribe`` with ``IdempotentConsumer`` in batches, Postgres, a local Tansu)
takes records offered at a fixed rate on three topics of three partitions, each record one row in a table, once
committing the offsets of every batch on its own (interval 0, as before ``PendingOffsets``) and once together
every ``--interval`` seconds (the setting's default), in turn for ``--rounds`` rounds (the machine is shared:
whatever else runs falls on both alike).  Printed per round: CPU per record of this process (the producer's
sends included, alike in both) and of the broker's process.

    python -m bench.commits [--rate 40] [--seconds 10] [--rounds 2] [--interval 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import uuid
from datetime import UTC, datetime

import psutil

from bench.common import postgres_server, table
from mentorship.devstack.broker import start_broker
from shared.bus import ensure_topics, message_headers, new_broker, new_producer
from shared.db import create_pool, migrate, shared_migrations
from shared.envelope import Envelope
from shared.events.profiles import MentorCapacityChanged
from shared.inbox import IdempotentConsumer
from shared.subscription import subscribe


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.commits", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=40.0, help="records offered per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of records per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.2, help="the commit interval set against 0")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.rounds < 1 or args.interval <= 0:
        parser.error("--rate, --seconds and --interval must be > 0, --rounds >= 1")
    return args


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _record(i: int) -> Envelope:
    event = MentorCapacityChanged(participant_id=f"m{i}", old_capacity=0, new_capacity=1 + i % 9)
    return Envelope(
        id=uuid.uuid4(),
        source="/services/profiles",
        type=event.type_name(),
        time=datetime.now(UTC),
        subject=f"m{i}",
        correlationid=uuid.uuid4(),
        sequence=1,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
    )


async def measure(bootstrap: str, dsn: str, broker_pid: int, interval: float, args: argparse.Namespace) -> list:
    """One measurement on fresh topics and a fresh group: [interval, records, ms CPU/record here, in the broker]."""
    topics = [f"bench.commits.{uuid.uuid4().hex[:8]}" for _ in range(3)]
    await ensure_topics(bootstrap, topics, 3)
    pool = await create_pool(dsn)
    handled = 0

    async def on_capacity(conn, event, envelope) -> None:
        nonlocal handled
        handled += 1
        await conn.execute("INSERT INTO bench_commits (id) VALUES ($1)", event.participant_id)

    producer = new_producer(bootstrap)
    await producer.start()
    group = f"bench-commits-{uuid.uuid4().hex[:8]}"
    consumer = IdempotentConsumer(pool, group, {"MentorCapacityChanged": on_capacity}, producer)
    broker = new_broker(bootstrap)
    subscription = subscribe(
        broker, consumer, topics, session_timeout_ms=6000, batch_size=100, fetch_max_wait_ms=20,
        commit_interval_seconds=interval,
    )  # fmt: skip
    await broker.start()
    broker_process = psutil.Process(broker_pid)

    def broker_cpu() -> float:
        times = broker_process.cpu_times()
        return times.user + times.system

    async def send(i: int) -> None:
        envelope = _record(i)
        headers = message_headers(envelope.type, envelope.id)
        await producer.send(topics[i % 3], envelope.to_bytes(), key=envelope.subject.encode(), headers=headers)

    try:
        await send(0)  # the group has joined and handled a record before the measurement
        while handled < 1:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)
        here, there, before = _process_cpu(), broker_cpu(), handled
        sent, end = 0, time.monotonic() + args.seconds
        while time.monotonic() < end:
            sent += 1
            await send(sent)
            await asyncio.sleep(1 / args.rate)
        while handled - before < sent:
            await asyncio.sleep(0.05)
        await asyncio.sleep(2 * interval)  # the last commit, planned after the last batch
        done = handled - before
        return [f"{interval:g}", done, 1000 * (_process_cpu() - here) / done, 1000 * (broker_cpu() - there) / done]
    finally:
        await subscription.flush()
        await broker.stop()
        await producer.stop()
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rows = []
    with postgres_server() as pg, start_broker() as broker:
        if broker.pid is None:
            sys.exit("bench.commits needs a broker of its own (Tansu): unset MENTORSHIP_KAFKA_BOOTSTRAP")
        dsn = pg.create_database(f"bench_commits_{uuid.uuid4().hex[:8]}")

        async def prepare() -> None:
            pool = await create_pool(dsn)
            try:
                await migrate(pool, shared_migrations())
                await pool.execute("CREATE TABLE bench_commits (id text)")
            finally:
                await pool.close()

        asyncio.run(prepare())
        for _ in range(args.rounds):
            for interval in (0.0, args.interval):
                row = asyncio.run(measure(broker.bootstrap, dsn, broker.pid, interval, args))
                print(f"interval {row[0]} s: {row[2]:.2f} ms CPU/record here, {row[3]:.2f} in the broker", flush=True)
                rows.append([row[0], row[1], f"{row[2]:.2f}", f"{row[3]:.2f}"])
    print(f"\n{args.rate:g} records/s, batches of up to 100, fetch wait 20 ms:")
    print(table(["commit interval s", "records", "ms CPU/record (consumer process)", "ms CPU/record (broker)"], rows))


if __name__ == "__main__":
    main()
