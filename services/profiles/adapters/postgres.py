"""Plumbing the Postgres port implementations share: savepoints, JSON."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg


def savepoint(conn: asyncpg.Connection) -> AbstractAsyncContextManager[Any]:
    """The ``Savepoints`` port: a transaction nested in ``conn``'s."""
    return conn.transaction()


def json_value(value: object) -> Any:
    """A jsonb column as read: text without the pool's codec, decoded already with it."""
    return json.loads(value) if isinstance(value, str) else value
