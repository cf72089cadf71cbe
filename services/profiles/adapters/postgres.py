"""Plumbing the Postgres port implementations share: savepoints, JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from shared.db import lines_as_text_array, text_lines


def savepoint(conn: asyncpg.Connection) -> AbstractAsyncContextManager[Any]:
    """The ``Savepoints`` port: a transaction nested in ``conn``'s."""
    return conn.transaction()


def json_value(value: object) -> Any:
    """A jsonb column as read: text without the pool's codec, decoded already with it."""
    return json.loads(value) if isinstance(value, str) else value


def text_columns(*columns: Sequence[str]) -> tuple[bool, list[Any]]:
    """Text columns of a bulk statement as its arguments: each column one text, a line a value, split by
    Postgres (``text_array``), when every column can be (``shared.db.text_lines``: ids, emails, UUIDs and JSON
    texts never hold a line break); else each a ``text[]`` as before.  1,000 rows of two such columns cost 0.9 ->
    0.3 µs a row of client CPU as texts (timeit against Postgres; bench/hr_import.py, the first import's new
    workers; a snapshot's roster in ``PostgresHrImports.in_roster``)."""
    joined = [text_lines(column) for column in columns]
    if None not in joined:
        return True, joined
    return False, [list(column) for column in columns]


def text_array(number: int, joined: bool) -> str:
    """Parameter ``$number`` as a ``text[]`` in SQL, given as one text of lines or as an array (``text_columns``)."""
    return lines_as_text_array(number) if joined else f"${number}::text[]"
