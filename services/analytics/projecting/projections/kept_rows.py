"""What the tables kept from the evaluation facts share (``fast_starts``, ``answer_days``): a row per relationship
or forward, the result of a join the dashboard made at each read, written again by each batch for what it touches,
and by a rebuild once, at its end, with the same join over everything (the batches leave the rows alone then)."""

from __future__ import annotations

import asyncpg


async def rebuilding(conn: asyncpg.Connection, schema: str) -> bool:
    """True while the generation is a rebuild whose indexes are deferred (``relationship_sums``' ``rel_sum_deferred``
    holds its row): its batches leave the kept rows to ``rebuild``."""
    return await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {schema}.rel_sum_deferred)")


async def rebuild(
    conn: asyncpg.Connection, schema: str, table: str, columns: str, rows: str, *, force: bool = False
) -> None:
    """Every row of ``table`` once, from ``rows`` (the join over the facts a rebuild's batches wrote), before the
    indexes are built; ``force`` writes them whatever the generation says (a generation built before the table)."""
    if not force and not await rebuilding(conn, schema):
        return
    async with conn.transaction():
        await conn.execute(f"TRUNCATE {schema}.{table}")
        await conn.execute(f"INSERT INTO {schema}.{table} ({columns}) {rows}")
