"""Append throughput, one event per command: our event store + outbox, the eventsourcing
library's Postgres recorder, and raw asyncpg inserts, each on a fresh database of one server.

    python -m bench.append [--seconds 5] [--warmup 1] [--concurrency 1 8] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from eventsourcing.persistence import StoredEvent as PeerStoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from bench.common import (
    SERVICE,
    Rate,
    durability,
    fresh_database,
    measure_tasks,
    measure_threads,
    mentor_registered,
    migrated,
    per_second,
    pg_params,
    postgres_server,
    ratio,
    spread_cell,
    table,
)
from mentorship.devstack.postgres import Postgres
from shared.db import connect
from shared.eventstore import EventStore

PEER_TARGET, RAW_TARGET = 2.0, 0.7
EVENT = mentor_registered("mentor-bench")
PAYLOAD = EVENT.model_dump_json()
RAW_INSERT = """
INSERT INTO events (event_id, stream_id, version, event_type, schema_version,
                    occurred_at, correlation_id, causation_id, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, ($8::text)::jsonb)
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.append", description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="measured time per figure")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured time before each figure")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    p.add_argument("--rounds", type=int, default=3, help="repeat each figure; the median is reported")
    p.add_argument("--quick", action="store_true", help="1 round of 1 s per figure, 0.3 s warm-up")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    args = parser().parse_args(argv)
    if args.quick:
        args.seconds, args.warmup, args.rounds = 1.0, 0.3, 1
    return args


async def on_connections(
    dsn: str,
    concurrency: int,
    command: Callable[[asyncpg.Connection], Callable[[], Awaitable[None]]],
    warmup: float,
    seconds: float,
) -> Rate:
    """The rate of ``command``'s steps, each connection of ``concurrency`` running its own in a loop."""
    conns = [await connect(dsn) for _ in range(concurrency)]
    try:
        return await measure_tasks([command(c) for c in conns], warmup, seconds)
    finally:
        for conn in conns:
            await conn.close()


async def ours(dsn: str, concurrency: int, warmup: float, seconds: float) -> Rate:
    await migrated(dsn)
    store = EventStore(SERVICE)

    def command(conn: asyncpg.Connection) -> Callable[[], Awaitable[None]]:
        stream, version = f"mentor-{uuid.uuid4()}", 0

        async def step() -> None:
            nonlocal version
            async with conn.transaction():
                await store.append(conn, stream, version, [EVENT])
            version += 1

        return step

    return await on_connections(dsn, concurrency, command, warmup, seconds)


async def raw(dsn: str, concurrency: int, warmup: float, seconds: float) -> Rate:
    """The same row into the same ``events`` table, no outbox, no version check."""
    await migrated(dsn)
    type_name, schema_version = EVENT.type_name(), EVENT.schema_version

    def command(conn: asyncpg.Connection) -> Callable[[], Awaitable[None]]:
        stream, version = f"mentor-{uuid.uuid4()}", 0

        async def step() -> None:
            nonlocal version
            version += 1
            event_id = uuid.uuid4()
            async with conn.transaction():
                await conn.execute(
                    RAW_INSERT,
                    event_id,
                    stream,
                    version,
                    type_name,
                    schema_version,
                    datetime.now(UTC),
                    event_id,
                    PAYLOAD,
                )

        return step

    return await on_connections(dsn, concurrency, command, warmup, seconds)


def peer(dsn: str, concurrency: int, warmup: float, seconds: float) -> Rate:
    """eventsourcing 9.5 has no async recorder: one thread per concurrent command."""
    p = pg_params(dsn)
    datastore = PostgresDatastore(p.dbname, p.host, p.port, p.user, p.password, pool_size=concurrency, max_overflow=0)
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    state, topic = PAYLOAD.encode(), f"shared.events.profiles:{EVENT.type_name()}"

    def command() -> Callable[[], None]:
        originator_id, version = uuid.uuid4(), 0

        def step() -> None:
            nonlocal version
            version += 1
            recorder.insert_events([PeerStoredEvent(originator_id, version, topic, state)])

        return step

    try:
        return measure_threads([command() for _ in range(concurrency)], warmup, seconds)
    finally:
        datastore.close()


def measure_round(pg: Postgres, c: int, warmup: float, seconds: float) -> list[float]:
    """ours, peer, raw in ev/s, each on a fresh database."""
    with fresh_database(pg, "bench_append_ours") as dsn:
        r_ours = asyncio.run(ours(dsn, c, warmup, seconds))
    with fresh_database(pg, "bench_append_peer") as dsn:
        r_peer = peer(dsn, c, warmup, seconds)
    with fresh_database(pg, "bench_append_raw") as dsn:
        r_raw = asyncio.run(raw(dsn, c, warmup, seconds))
    return [r.per_second for r in (r_ours, r_peer, r_raw)]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rows, lines = [], []
    with postgres_server() as pg:
        print(
            f"{pg.kind} {asyncio.run(durability(pg.admin_dsn))} | payload {len(PAYLOAD)} bytes of JSON"
            f" | {args.seconds:g} s per figure after {args.warmup:g} s warm-up, median of {args.rounds} rounds"
        )
        for c in args.concurrency:
            rounds = [measure_round(pg, c, args.warmup, args.seconds) for _ in range(args.rounds)]
            spread = [sorted(figures) for figures in zip(*rounds, strict=False)]
            o, p, r = (statistics.median(figures) for figures in spread)
            rows.append([c, *(spread_cell(figures) for figures in spread), f"{o / p:.2f}", f"{o / r:.2f}"])
            lines.append(
                f"append c={c}: ours {per_second(o)} | eventsourcing {per_second(p)} | raw {per_second(r)}"
                f" | {ratio('ours/peer', o, p, PEER_TARGET)} | {ratio('ours/raw', o, r, RAW_TARGET)}"
            )
    print(table(["concurrency", "ours ev/s", "eventsourcing ev/s", "raw asyncpg ev/s", "ours/peer", "ours/raw"], rows))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
