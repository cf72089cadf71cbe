"""Real servers for the tests: one Postgres server per session with a fresh database per test, and a broker per
test module. Every test under ``tests/integration`` carries the ``integration`` mark.

The services use fixed topic names (``profiles.events``, ...), so a module that reads a whole topic or starts a
service whose consumer group reads one would see the records other modules left there. A broker of its own (it
starts in a fifth of a second) makes every module independent of which modules ran before it, in this process or
in the other worker of ``make test`` (pytest-xdist, whole modules per worker). An external broker (a Kafka
container, or one named by the environment) is shared by the session instead."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import settings as hypothesis_settings

from mentorship.devstack.broker import BOOTSTRAP_ENV, Broker, start_broker, start_tansu
from mentorship.devstack.docker import docker_engine_available
from mentorship.devstack.oidc import STAFF_ACCOUNTS, DevAccount, OidcProvider, start_oidc_provider
from mentorship.devstack.postgres import Postgres, start_postgres
from mentorship.devstack.processes import PORTS_ENV, port_range
from shared.db import create_pool, migrate, shared_migrations
from tests.faults.table import TABLE_PATH, clear_worker_rows, join_worker_rows

INTEGRATION = Path(__file__).parent / "integration"
# The services the tests build or start run in development mode, where the development tokens the tests mint
# (``shared.auth.mint_token``) are accepted; tests of production behaviour pass ``dev_mode=False`` themselves.
os.environ.setdefault("MENTORSHIP_DEV_MODE", "1")
# Each pytest-xdist worker (and every process it starts, which inherits this) takes its services' ports from a
# slice of its own, so the two workers never hand out the same port (``free_port``).
if (_worker := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw"):
    _low, _high = port_range()
    _workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    _slice = (_high - _low + 1) // _workers
    _first = _low + int(_worker[2:]) * _slice
    os.environ[PORTS_ENV] = f"{_first}-{_first + _slice - 1}"
# Property tests assert behaviour, never speed: Hypothesis' per-example deadline (200 ms) is a timed assertion that
# a busy 2-core machine fails, so it is off for the whole suite (speed lives in bench/).
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")
TEST_ACCOUNTS = (
    *STAFF_ACCOUNTS,
    DevAccount("mentor", "Maria Mentor", "E20001", ("mentor",)),
    DevAccount("mentee", "Theo Mentee", "E20002", ("mentee",)),
)


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        clear_worker_rows()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """The pytest-xdist controller joins the workers' fault rows into one table (``tests/faults/table.py``)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None and (rows := join_worker_rows()):
        from tests.faults.scenario import FaultRow, format_table

        table = format_table([FaultRow(**row) for row in rows])
        TABLE_PATH.write_text(table + "\n")
        terminalreporter.write_sep("=", "fault injection")
        terminalreporter.write_line(table)
        terminalreporter.write_line(f"(also in {TABLE_PATH.relative_to(TABLE_PATH.parents[1])})")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under ``tests/integration`` is an integration test (``-m integration``), marked there or not."""
    for item in items:
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def external_broker() -> Iterator[Broker | None]:
    """A broker that is not ours to start per module: ``MENTORSHIP_KAFKA_BOOTSTRAP``, or a Kafka container where a
    Docker engine answers (tens of seconds to start), shared by the session. None otherwise."""
    if os.environ.get(BOOTSTRAP_ENV) or docker_engine_available():
        with start_broker() as running:
            yield running
    else:
        yield None


@pytest.fixture(scope="module")
def broker(external_broker: Broker | None) -> Iterator[Broker]:
    """The module's own Tansu, or the session's external broker (whose topics the modules then share)."""
    if external_broker is not None:
        yield external_broker
        return
    with start_tansu() as running:
        yield running


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with start_postgres() as running:
        yield running


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """The development OpenID Connect provider (oidc-provider, its own Node process) with ``TEST_ACCOUNTS``."""
    with start_oidc_provider(accounts=TEST_ACCOUNTS, log_dir=tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


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
