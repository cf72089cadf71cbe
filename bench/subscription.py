"""The consumer path over a live broker: CPU per record in the consuming process and in the broker.

``shared.subscription.subscribe`` with an ``IdempotentConsumer`` as the services run it (FastStream, aiokafka,
batches, one offset commit per batch, Postgres), on a local Tansu, takes records offered at a fixed rate on
``--topics`` topics of three partitions (a group reads several topics, as matching and notifications do); each
record is one row in a table.  The records come from a child process, so this process's CPU
(``getrusage``) is the consumer's alone: fetches, the handler's transaction, the offset commit.  The broker's
CPU (psutil) includes taking the records in.  Each round uses fresh topics and a fresh group; the medians of
``--rounds`` are printed.

It measures one checkout: compare two by running it in each, in turn (the machine is shared: whatever else
runs falls on both alike).  The numbers behind ``shared/subscription.py``'s handler argument and commits.

    python -m bench.subscription [--rate 40] [--seconds 8] [--rounds 3] [--topics 3]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import uuid

import psutil

from bench.common import postgres_server, service_logs_kept_out, table
from mentorship.devstack.broker import start_broker
from shared.bus import ensure_topics, new_broker, new_producer
from shared.db import create_pool, migrate, shared_migrations
from shared.inbox import IdempotentConsumer
from shared.subscription import subscribe

PRODUCER = """
import asyncio, sys, time, uuid
from datetime import UTC, datetime
from shared.bus import message_headers, new_producer
from shared.envelope import Envelope
from shared.events.profiles import MentorCapacityChanged

async def main(bootstrap, topics, rate, count):
    producer = new_producer(bootstrap)
    await producer.start()
    started = time.monotonic()
    for i in range(count):
        event = MentorCapacityChanged(participant_id=f"m{i}", old_capacity=0, new_capacity=1 + i % 9)
        envelope = Envelope(
            id=uuid.uuid4(), source="/services/profiles", type=event.type_name(), time=datetime.now(UTC),
            subject=f"m{i}", correlationid=uuid.uuid4(), sequence=1, schemaversion=event.schema_version,
            data=event.model_dump(mode="json"),
        )
        await producer.send(
            topics[i % len(topics)], envelope.to_bytes(), key=envelope.subject.encode(),
            headers=message_headers(envelope.type, envelope.id),
        )
        await asyncio.sleep(max(started + (i + 1) / rate - time.monotonic(), 0))
    await producer.stop()

asyncio.run(main(sys.argv[1], sys.argv[2].split(","), float(sys.argv[3]), int(sys.argv[4])))
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.subscription", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=40.0, help="records offered per second")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of records per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--topics", type=int, default=3, help="topics the group reads (three partitions each)")
    parser.add_argument("--batch", type=int, default=100, help="the consumer's batch size")
    parser.add_argument("--fetch-wait", type=int, default=20, help="the consumer's fetch_max_wait_ms")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or min(args.rounds, args.topics, args.batch, args.fetch_wait) < 1:
        parser.error("--rate and --seconds must be > 0, --rounds, --topics, --batch and --fetch-wait >= 1")
    return args


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _produce(bootstrap: str, topics: list[str], rate: float, count: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", PRODUCER, bootstrap, ",".join(topics), str(rate), str(count)])


async def measure(bootstrap: str, dsn: str, broker_pid: int, args: argparse.Namespace) -> tuple[int, float, float]:
    """One round: records handled, ms CPU per record in this process and in the broker."""
    topics = [f"bench.subscription.{uuid.uuid4().hex[:8]}" for _ in range(args.topics)]
    await ensure_topics(bootstrap, topics, 3)
    pool = await create_pool(dsn)
    handled = 0

    async def on_capacity(conn, event, envelope) -> None:
        nonlocal handled
        handled += 1
        await conn.execute("INSERT INTO bench_subscription (id) VALUES ($1)", event.participant_id)

    producer = new_producer(bootstrap)  # the dead-letter producer every consumer has (idle here)
    await producer.start()
    consumer = IdempotentConsumer(
        pool, f"bench-subscription-{uuid.uuid4().hex[:8]}", {"MentorCapacityChanged": on_capacity}, producer
    )
    broker = new_broker(bootstrap)
    subscribe(
        broker, consumer, topics, session_timeout_ms=6000, batch_size=args.batch, fetch_max_wait_ms=args.fetch_wait
    )
    await broker.start()
    broker_process = psutil.Process(broker_pid)

    def broker_cpu() -> float:
        times = broker_process.cpu_times()
        return times.user + times.system

    try:
        await asyncio.to_thread(_produce(bootstrap, topics, 10, 1).wait)  # joined and handling before measuring
        while handled < 1:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)
        here, there, before = _process_cpu(), broker_cpu(), handled
        count = round(args.rate * args.seconds)
        await asyncio.to_thread(_produce(bootstrap, topics, args.rate, count).wait)
        while handled - before < count:
            await asyncio.sleep(0.01)
        done = handled - before
        return done, 1000 * (_process_cpu() - here) / done, 1000 * (broker_cpu() - there) / done
    finally:
        await broker.stop()
        await producer.stop()
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with service_logs_kept_out():
        rows = _measure_all(args)
    print(
        f"\n{args.rate:g} records/s on {args.topics} topics x 3 partitions, batches of up to {args.batch},"
        f" fetch wait {args.fetch_wait} ms:"
    )
    consumer, broker = statistics.median(r[1] for r in rows), statistics.median(r[2] for r in rows)
    print(table(["round", "records", "ms CPU/record (consumer process)", "ms CPU/record (broker)"], [
        *([i + 1, n, f"{c:.2f}", f"{b:.2f}"] for i, (n, c, b) in enumerate(rows)),
        ["median", "", f"{consumer:.2f}", f"{broker:.2f}"],
    ]))  # fmt: skip


def _measure_all(args: argparse.Namespace) -> list[tuple[int, float, float]]:
    rows = []
    with postgres_server() as pg, start_broker() as broker:
        if broker.pid is None:
            sys.exit("bench.subscription needs a broker of its own (Tansu): unset MENTORSHIP_KAFKA_BOOTSTRAP")
        dsn = pg.create_database(f"bench_subscription_{uuid.uuid4().hex[:8]}")

        async def prepare() -> None:
            pool = await create_pool(dsn)
            try:
                await migrate(pool, shared_migrations())
                await pool.execute("CREATE TABLE bench_subscription (id text)")
            finally:
                await pool.close()

        asyncio.run(prepare())
        for _ in range(args.rounds):
            rows.append(asyncio.run(measure(broker.bootstrap, dsn, broker.pid, args)))
            print(
                f"round {len(rows)}: {rows[-1][1]:.2f} ms CPU/record here, {rows[-1][2]:.2f} in the broker", flush=True
            )
    return rows


if __name__ == "__main__":
    main()
