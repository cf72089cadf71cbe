"""Plumbing the Postgres port implementations share: savepoints, JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg


def savepoint(conn: asyncpg.Connection) -> AbstractAsyncContextManager[Any]:
    """The ``Savepoints`` port: a transaction nested in ``conn``'s."""
    return conn.transaction()


def json_value(value: object) -> Any:
    """A jsonb column as read: text without the pool's codec, decoded already with it."""
    return json.loads(value) if isinstance(value, str) else value


def text_columns(*columns: Sequence[str]) -> tuple[bool, list[Any]]:
    """Text columns of a bulk statement as its arguments: each column one text, a line a value, split by
    Postgres (``text_array``), when no value holds a line break or is empty (ids, emails, UUIDs and JSON texts
    never do); else each a ``text[]`` as before.  asyncpg checks every element of an array argument against
    abstract base classes in Python (``ABCMeta.__instancecheck__`` twice a text): 1,000 rows of two such
    columns cost 0.9 -> 0.3 µs a row of client CPU as texts (timeit against Postgres; bench/hr_import.py, the
    first import's new workers; a snapshot's roster in ``PostgresHrImports.in_roster``)."""
    joined = ["\n".join(column) for column in columns]
    if all(
        text.count("\n") == len(column) - 1 and "" not in column for text, column in zip(joined, columns, strict=True)
    ):
        return True, joined
    return False, [list(column) for column in columns]


def text_array(number: int, joined: bool) -> str:
    """Parameter ``$number`` as a ``text[]`` in SQL, given as one text of lines or as an array (``text_columns``)."""
    return f"string_to_array(${number}::text, E'\\n')" if joined else f"${number}::text[]"
