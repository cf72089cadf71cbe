"""Where a generation's projector stands: the next offset per topic partition, in the generation's schema.

The checkpoints move in the same transaction as the rows of the batch that moved them, so a killed run
resumes exactly where its last batch committed.
"""

from __future__ import annotations

import asyncpg

Partition = tuple[str, int]


async def load(pool: asyncpg.Pool, schema: str) -> dict[Partition, int]:
    rows = await pool.fetch(f"SELECT topic, partition, next_offset FROM {schema}.checkpoints")
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def save(conn: asyncpg.Connection, schema: str, next_offsets: dict[Partition, int]) -> None:
    """Move the checkpoints of the partitions in ``next_offsets`` (inside the batch's transaction)."""
    topics, partitions, offsets = zip(
        *((topic, partition, o) for (topic, partition), o in next_offsets.items()), strict=False
    )
    await conn.execute(
        f"INSERT INTO {schema}.checkpoints (topic, partition, next_offset)"
        " SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[])"
        " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
        list(topics),
        list(partitions),
        list(offsets),
    )
