"""Session-wide real servers: one broker and one Postgres server; a fresh database per test. Every test under
``tests/integration`` carries the ``integration`` mark."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from mentorship.devstack.broker import Broker, start_broker
from mentorship.devstack.postgres import Postgres, start_postgres
from shared.db import create_pool, migrate, shared_migrations

INTEGRATION = Path(__file__).parent / "integration"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under ``tests/integration`` is an integration test (``-m integration``), marked there or not."""
    for item in items:
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    with start_broker() as running:
        yield running


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with start_postgres() as running:
        yield running


@pytest.fixture
def fresh_dsn(postgres: Postgres) -> Iterator[str]:
    """DSN of a new, empty database that only this test uses."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    dsn = postgres.create_database(name)
    yield dsn
    postgres.drop_database(name)


@pytest_asyncio.fixture
async def pool(fresh_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database with the event store, outbox and inbox tables."""
    pool = await create_pool(fresh_dsn, min_size=1, max_size=10)
    await migrate(pool, shared_migrations())
    yield pool
    await pool.close()


@pytest.fixture
def topic_name() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
