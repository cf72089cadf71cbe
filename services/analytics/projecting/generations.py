"""Generations of the projections: each in its own schema; readers follow the live one.

A rebuild creates a new generation, fills it from the beginning of every topic
while the live one keeps serving, then swaps it in with one small transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime

import asyncpg

from services.analytics.generation_names import schema_name
from services.analytics.projecting import erasure
from services.analytics.projecting.projections import ALL, answer_days, fast_starts, relationship_sums

CHECKPOINTS_DDL = """
CREATE TABLE {schema}.checkpoints (
    topic       text    NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);
-- Every event applied to this generation: a republished copy is recognised and skipped.
CREATE TABLE {schema}.projected_events (event_id uuid PRIMARY KEY);
"""
_LOCK = 7_240_100


async def live_generation(conn: asyncpg.Connection | asyncpg.Pool) -> int | None:
    return await conn.fetchval("SELECT generation FROM projection_generations WHERE state = 'live'")


def _statements(*, indexes: bool) -> list[str]:
    """The DDL statements of a generation: its tables (with their keys), or its secondary indexes."""
    ddls = [CHECKPOINTS_DDL, erasure.DDL, *(p.DDL for p in ALL)]
    statements = [s.strip() for ddl in ddls for s in ddl.split(";")]
    return [s for s in statements if s and _code(s).upper().startswith("CREATE INDEX") == indexes]


def _code(statement: str) -> str:
    return "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--")).strip()


SHAPE = hashlib.sha256(
    "\n".join(_code(s) for s in _statements(indexes=False) + _statements(indexes=True)).encode()
).hexdigest()[:16]
"""Digest of the projections' DDL: a generation of another shape was built by another version of the code."""


async def generation_shape(conn: asyncpg.Connection | asyncpg.Pool, generation: int) -> str | None:
    return await conn.fetchval("SELECT shape FROM projection_generations WHERE generation = $1", generation)


async def create_generation(
    conn: asyncpg.Connection, as_of: datetime | None = None, *, defer_indexes: bool = False
) -> int:
    """A new generation in state ``building``.

    With ``defer_indexes`` (a rebuild) the tables get only their keys (what projecting reads and the
    upserts need); the secondary indexes, used only by queries, are built once by ``build_indexes``
    before the generation is served: one sort instead of an index insert per row, and less work for
    the projector's Postgres backend during the replay. The relationships' sums wait for it too
    (``relationship_sums.catch_up``).
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        generation = await conn.fetchval("SELECT coalesce(max(generation), 0) + 1 FROM projection_generations")
        schema = schema_name(generation)
        await conn.execute(f"CREATE SCHEMA {schema}")
        statements = _statements(indexes=False) + ([] if defer_indexes else _statements(indexes=True))
        for statement in statements:
            await conn.execute(statement.format(schema=schema))
        if defer_indexes:
            await relationship_sums.defer(conn, schema)
        await conn.execute(
            "INSERT INTO projection_generations (generation, state, as_of, shape) VALUES ($1, 'building', $2, $3)",
            generation,
            as_of,
            SHAPE,
        )
    return generation


async def build_indexes(conn: asyncpg.Connection, generation: int, aside: asyncpg.Pool | None = None) -> None:
    """The secondary indexes a generation made with ``defer_indexes`` left out, and the relationships' sums its
    batches left to the end (run once, before serving it).

    With ``aside`` (the pool ``conn`` came from), the indexes of the tables the sums' catch-up does not write are
    built on a second connection while ``conn`` catches the sums up: the catch-up is mostly Python on one core and
    an index build is Postgres on the other (``bench/replay.py``: the end of a rebuild, about a quarter of its
    time, had the two one after the other).  A build takes a SHARE lock, which the catch-up's reads pass."""
    schema = schema_name(generation)
    await fast_starts.catch_up(conn, schema)  # before rel_sum_deferred goes, which tells it is a rebuild
    await answer_days.catch_up(conn, schema)
    statements = [statement.format(schema=schema) for statement in _statements(indexes=True)]
    sums = [statement for statement in statements if f"{schema}.rel_sum_" in statement]  # what catch_up writes
    others = [statement for statement in statements if statement not in sums]

    async def sums_first() -> None:
        # the sums first: they read by keys only, and their day rows' index is then built by one sort too
        await relationship_sums.catch_up(conn, schema)
        await _execute_all(conn, sums)

    if aside is None:
        await sums_first()
        await _execute_all(conn, others)
        return
    async with aside.acquire() as second, asyncio.TaskGroup() as group:
        group.create_task(sums_first())
        group.create_task(_execute_all(second, others))


async def _execute_all(conn: asyncpg.Connection, statements: list[str]) -> None:
    for statement in statements:
        await conn.execute(statement)


async def make_live(conn: asyncpg.Connection, generation: int) -> int | None:
    """Swap ``generation`` in; the previous live one is retired and its schema dropped. Returns it."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        previous = await live_generation(conn)
        await conn.execute("UPDATE projection_generations SET state = 'retired' WHERE state = 'live'")
        await conn.execute(
            "UPDATE projection_generations SET state = 'live', live_at = now() WHERE generation = $1", generation
        )
        if previous is not None:
            await conn.execute(f"DROP SCHEMA {schema_name(previous)} CASCADE")
    return previous


async def ensure_live(pool: asyncpg.Pool) -> int:
    """The live generation, creating the first one on a fresh database."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK + 1)
        live = await live_generation(conn)
        if live is not None:
            return live
        generation = await create_generation(conn)
        await make_live(conn, generation)
        return generation
