"""Plumbing the Postgres port implementations share: transactions over the runtime's pool, savepoints, JSON."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from shared.ports import Conn, PostgresTransactions
from shared.runtime import ServiceRuntime


class RuntimeTransactions:
    """``shared.ports.Transactions`` over the runtime's pool, which exists only once the service runs."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    def __call__(self) -> AbstractAsyncContextManager[Conn]:
        return PostgresTransactions(self.runtime.pool)()


def savepoint(conn: asyncpg.Connection) -> AbstractAsyncContextManager[Any]:
    """The ``Savepoints`` port: a transaction nested in ``conn``'s."""
    return conn.transaction()


def json_value(value: object) -> Any:
    """A jsonb column as read: text without the pool's codec, decoded already with it."""
    return json.loads(value) if isinstance(value, str) else value
