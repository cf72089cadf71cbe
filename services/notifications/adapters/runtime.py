"""The service runtime plus the delivery worker, started once the pool exists and stopped first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from services.notifications.adapters.worker import DeliveryWorker
from shared.db import create_pool
from shared.runtime import ServiceRuntime


@dataclass
class NotificationsRuntime(ServiceRuntime):
    worker_factory: Callable[[asyncpg.Pool], DeliveryWorker] | None = None
    worker_connections: int = 18
    run_worker: bool = True
    worker: DeliveryWorker | None = field(default=None, init=False)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ServiceRuntime]:
        """The worker has a pool of its own, so sending at full tilt never starves the consumer of connections."""
        async with super().running() as runtime:
            assert self.worker_factory is not None
            worker_pool = await create_pool(self.settings.pg_dsn, min_size=2, max_size=self.worker_connections)
            self.worker = self.worker_factory(worker_pool)
            task = asyncio.create_task(self.worker.run(), name="delivery") if self.run_worker else None
            try:
                yield runtime
            finally:
                self.worker.stop()
                if task is not None:
                    await asyncio.wait_for(task, timeout=15)
                await self.worker.close()
                await worker_pool.close()
