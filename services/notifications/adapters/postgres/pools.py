"""Transactions (``shared.ports.Transactions``) on a pool that may exist only once the runtime has started."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg


class PoolTransactions:
    """``async with transactions() as conn``: a connection from the pool ``pool_of()`` returns when the block
    opens (the runtime's, bound in its lifespan), in a transaction; with ``transaction=False`` each statement
    commits by itself (a delivery claim must be committed before anything is sent)."""

    def __init__(self, pool_of: Callable[[], asyncpg.Pool | None], *, transaction: bool = True) -> None:
        self.pool_of = pool_of
        self.transaction = transaction

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self.pool_of()
        if pool is None:
            raise RuntimeError("the service has not started: its connection pool does not exist yet")
        async with pool.acquire() as conn:
            if not self.transaction:
                yield conn
                return
            async with conn.transaction():
                yield conn
