"""Writing a batch's facts, each once: a few rows in one statement, many by binary COPY.

Facts keyed by themselves (an event id, a meeting id) are new by construction, since the projector
hands each event over once; a repeat (a fact repeated under another event id) is rare and left out.
For many rows a plain COPY is the cheapest way into a table (no per-row conflict handling), but it
fails whole on a duplicate key: it runs inside a savepoint, and on a duplicate it is undone and the
rows are merged with ``INSERT … ON CONFLICT DO NOTHING`` from a staging copy instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import asyncpg

from services.analytics.projecting.binary_copy import copy_encoded
from shared.db import lines_as_text_array, text_lines


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
        params, args = unnest_arguments(columns.values(), list(zip(*rows, strict=False)))
        await conn.execute(
            f"INSERT INTO {schema}.{table} ({', '.join(columns)}) SELECT * FROM unnest({params})"
            " ON CONFLICT DO NOTHING",
            *args,
        )


def unnest_arguments(types: Iterable[str], columns: Sequence[Sequence[object]], first: int = 1) -> tuple[str, list]:
    """The arrays of a bulk statement (``unnest(…)``'s arguments, parameters from ``$first`` on) and their values.

    A ``text`` column goes as one text of lines split by Postgres (``shared.db.text_lines``) when it can (every value a
    non-empty ``str`` without a line break: ids, kinds, departments), any other column as an array. asyncpg
    checks every element of an array argument against the collection ABCs in Python (twice per text): for a
    replay's few million array elements that was the projector's largest cost after aiokafka's decoding,
    on the process every batch waits for (``bench/replay.py``). The rows Postgres makes are the same.
    """
    params, args = [], []
    for number, (kind, column) in enumerate(zip(types, columns, strict=True), start=first):
        lines = text_lines(column) if kind == "text" else None
        params.append(lines_as_text_array(number) if lines is not None else f"${number}::{kind}[]")
        args.append(lines if lines is not None else list(column))
    return ", ".join(params), args


def text_values(values: Sequence[object], number: int = 1) -> tuple[str, object]:
    """One ``text[]`` parameter (``$number``) as ``unnest_arguments`` sends a text column: SQL and value."""
    lines = text_lines(values)
    return (lines_as_text_array(number), lines) if lines is not None else (f"${number}::text[]", list(values))
