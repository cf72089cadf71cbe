"""Writing a batch's facts, each once: a few rows in one statement, many by binary COPY.

Facts keyed by themselves (an event id, a meeting id) are new by construction, since the projector
hands each event over once; a repeat (a fact repeated under another event id) is rare and left out.
For many rows a plain COPY is the cheapest way into a table (no per-row conflict handling), but it
fails whole on a duplicate key: it runs inside a savepoint, and on a duplicate it is undone and the
rows are merged with ``INSERT … ON CONFLICT DO NOTHING`` from a staging copy instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import asyncpg

from services.analytics.projecting.binary_copy import copy_encoded


async def copy_new(conn: asyncpg.Connection, schema: str, table: str, columns: Sequence[str], encoded: bytes) -> None:
    """Insert rows already in binary COPY format (``binary_copy.encode``); any whose key is already in
    ``table`` (or repeated in the rows) is left out."""
    try:
        async with conn.transaction():  # a savepoint: a failed COPY leaves the batch's transaction usable
            await copy_encoded(conn, schema, table, columns, encoded)
    except asyncpg.UniqueViolationError:
        await merge_new(conn, schema, table, columns, encoded)


async def merge_new(conn: asyncpg.Connection, schema: str, table: str, columns: Sequence[str], encoded: bytes) -> None:
    names = ", ".join(columns)
    stage = f"stage_{table}"
    await conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {names} FROM {schema}.{table} WITH NO DATA")
    await conn.execute(f"TRUNCATE {stage}")
    await copy_encoded(conn, "pg_temp", stage, columns, encoded)
    await conn.execute(f"INSERT INTO {schema}.{table} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING")


async def insert_new(
    conn: asyncpg.Connection, schema: str, table: str, columns: Mapping[str, str], rows: list[tuple]
) -> None:
    """Insert a few ``rows`` (``columns``: name -> type) in one statement; any already there is left out.

    One round trip, where ``copy_new`` takes four (savepoint, COPY, release): each is a moment the
    event loop may wait for the GIL while the worker thread prepares the next batch.
    """
    if rows:
        params = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(columns.values()))
        await conn.execute(
            f"INSERT INTO {schema}.{table} ({', '.join(columns)}) SELECT * FROM unnest({params})"
            " ON CONFLICT DO NOTHING",
            *(list(column) for column in zip(*rows, strict=False)),
        )
