"""Transactions on the runtime's pool, which exists only once the service has started (its lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from shared.runtime import ServiceRuntime


class RuntimeTransactions:
    """``shared.ports.Transactions`` on ``runtime.pool``: acquire a connection and open a transaction."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.runtime.pool.acquire() as conn, conn.transaction():
            yield conn
