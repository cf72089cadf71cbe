"""Relay throughput: draining a pre-filled outbox through ``OutboxRelay.run`` against
a raw aiokafka producer sending the same messages, both to fresh 3-partition topics.

    python -m bench.relay [--events 50000] [--batch-size 500] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from aiokafka import AIOKafkaProducer

from bench.common import (
    SERVICE,
    capacity_changed,
    durability,
    fresh_database,
    mentor_registered,
    migrated,
    per_second,
    postgres_server,
    ratio,
    table,
)
from mentorship.devstack.broker import start_broker
from shared.bus import ensure_topics, message_headers, new_consumer, new_producer
from shared.db import connect
from shared.events.base import Event
from shared.eventstore import EventStore
from shared.outbox import OutboxRelay

RAW_TARGET = 0.5
PARTITIONS = 3
EVENTS_PER_STREAM = 10  # a registration, then capacity changes
EVENTS_PER_TRANSACTION = 1000

Message = tuple[bytes, bytes, list[tuple[str, bytes]]]  # key, value, headers


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=50_000, help="events in the outbox (and sent raw)")
    p.add_argument("--batch-size", type=int, default=500, help="relay batch, also the raw send batch")
    p.add_argument("--quick", action="store_true", help="5,000 events")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    args = parser().parse_args(argv)
    if args.quick:
        args.events = 5_000
    return args


def stream_events(participant_id: str, count: int) -> list[Event]:
    return [mentor_registered(participant_id)] + [capacity_changed(participant_id, i) for i in range(1, count)]


async def prefill(dsn: str, store: EventStore, total: int) -> list[Message]:
    """Append ``total`` events (untimed) and return them as the relay will send them."""
    await migrated(dsn)
    conn = await connect(dsn)
    try:
        for start in range(0, total, EVENTS_PER_TRANSACTION):
            async with conn.transaction():
                end = min(start + EVENTS_PER_TRANSACTION, total)
                for first in range(start, end, EVENTS_PER_STREAM):
                    stream = f"mentor-{uuid.uuid4()}"
                    await store.append(conn, stream, 0, stream_events(stream, min(EVENTS_PER_STREAM, end - first)))
        stored = await store.read_all(conn, limit=total)
    finally:
        await conn.close()
    envelopes = [s.envelope for s in stored]
    return [(e.subject.encode(), e.to_bytes(), message_headers(e.type, e.id)) for e in envelopes]


async def started_producer(bootstrap: str, topic: str) -> AIOKafkaProducer:
    producer = new_producer(bootstrap)
    await producer.start()
    await producer.partitions_for(topic)  # metadata fetched before the clock starts
    return producer


async def relay_drain(
    dsn: str, store: EventStore, bootstrap: str, topic: str, batch_size: int, total: int
) -> tuple[int, float]:
    """The production loop (``OutboxRelay.run``: lock, pipelined batches), timed until all ``total`` are acked."""
    producer = await started_producer(bootstrap, topic)
    relay = OutboxRelay(dsn, store, producer, topic=topic, batch_size=batch_size, poll_seconds=0.001)
    stop = asyncio.Event()
    try:
        start = time.perf_counter()
        running = asyncio.create_task(relay.run(stop))
        while relay.stats.published < total:
            if running.done():
                running.result()  # raises what stopped the relay
                raise RuntimeError("relay stopped before draining the outbox")
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - start
        stop.set()
        await running
        return relay.stats.published, elapsed
    finally:
        await producer.stop()


async def raw_send(bootstrap: str, topic: str, messages: list[Message], batch_size: int) -> tuple[int, float]:
    producer = await started_producer(bootstrap, topic)
    try:
        start = time.perf_counter()
        for i in range(0, len(messages), batch_size):
            futures = [
                await producer.send(topic, value=value, key=key, headers=headers)
                for key, value, headers in messages[i : i + batch_size]
            ]
            await asyncio.gather(*futures)
        return len(messages), time.perf_counter() - start
    finally:
        await producer.stop()


async def records_in(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> int:
    """Count by reading: Tansu's latest offsets (ListOffsets) lag behind by the last batch."""
    consumer = new_consumer(bootstrap, topic, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    count, deadline = 0, time.monotonic() + timeout
    try:
        while count < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            count += sum(len(records) for records in batches.values())
        return count
    finally:
        await consumer.stop()


async def measure(dsn: str, bootstrap: str, events: int, batch_size: int) -> dict[str, float]:
    store = EventStore(SERVICE)
    messages = await prefill(dsn, store, events)
    relay_topic, raw_topic = (f"bench.{kind}.{uuid.uuid4().hex[:8]}" for kind in ("relay", "raw"))
    await ensure_topics(bootstrap, [relay_topic, raw_topic], PARTITIONS)
    rates = {}
    for name, topic, run in (
        ("raw", raw_topic, lambda: raw_send(bootstrap, raw_topic, messages, batch_size)),
        ("relay", relay_topic, lambda: relay_drain(dsn, store, bootstrap, relay_topic, batch_size, events)),
    ):
        sent, seconds = await run()
        landed = await records_in(bootstrap, topic, events)
        if sent != events or landed != events:
            raise RuntimeError(f"{name}: sent {sent}, topic holds {landed}, expected {events}")
        rates[name] = sent / seconds
    return rates


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with postgres_server() as pg, start_broker() as broker, fresh_database(pg, "bench_relay") as dsn:
        print(
            f"{pg.kind} {asyncio.run(durability(dsn))} | broker {broker.kind} at {broker.bootstrap}"
            f" | {args.events:,} events, batch {args.batch_size}, {PARTITIONS} partitions"
        )
        rates = asyncio.run(measure(dsn, broker.bootstrap, args.events, args.batch_size))
    print(
        table(
            ["relay ev/s", "raw aiokafka ev/s", "relay/raw"],
            [[per_second(rates["relay"], ""), per_second(rates["raw"], ""), f"{rates['relay'] / rates['raw']:.2f}"]],
        )
    )
    print(
        f"relay batch={args.batch_size}: relay {per_second(rates['relay'])} | raw aiokafka {per_second(rates['raw'])}"
        f" | {ratio('relay/raw', rates['relay'], rates['raw'], RAW_TARGET)}"
    )


if __name__ == "__main__":
    main()
