"""Connection pool and versioned migrations for a service's own database.

Migrations are ``(name, sql)`` pairs applied in order and recorded in
``schema_migrations``.  An advisory lock serialises replicas that start at once.
"""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources

import asyncpg

from shared.metrics import db_statements as _statements

MIGRATION_LOCK_KEY = 7_240_001


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str


def migrations_from_package(package: str) -> list[Migration]:
    """Every ``*.sql`` file of a package, in file-name order (``001_x.sql``, ``002_y.sql`` …)."""
    files = sorted((f for f in resources.files(package).iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(f"{package}:{f.name}", f.read_text()) for f in files]


def shared_migrations() -> list[Migration]:
    """Event store, outbox, inbox and timers: every service has them."""
    return migrations_from_package("shared.migrations")


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


_request_bound: ContextVar[tuple[weakref.ref[asyncio.Task], float] | None] = ContextVar("_request_bound", default=None)


@contextmanager
def acquire_bound(seconds: float) -> Iterator[None]:
    """While a request is served (``shared.edge``), its task waits at most ``seconds`` for a pooled connection.

    Only that task: work it starts in tasks of its own (an analytics replay) waits as background work does."""
    token = _request_bound.set((weakref.ref(asyncio.current_task()), seconds))
    try:
        yield
    finally:
        _request_bound.reset(token)


def request_acquire_timeout() -> float | None:
    bound = _request_bound.get()
    return bound[1] if bound is not None and bound[0]() is asyncio.current_task() else None


class PoolExhausted(TimeoutError):
    """No pooled connection came free in time: the service is overloaded (HTTP 503 with ``Retry-After``).

    A ``TimeoutError`` (an ``OSError``), so the consumers and timers, which retry those without limit, treat it
    as they treat a database that does not answer."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no database connection came free within {seconds:g} s")


class Pool(asyncpg.Pool):
    """asyncpg's pool; an acquire without a timeout by the task serving a request waits at most its
    ``acquire_bound`` (any other acquire waits as asyncpg's does).  ``_acquire`` is the one method every
    acquire goes through (``acquire``, ``fetch``, ``execute`` …); tests/integration/test_http_edge.py pins it."""

    async def _acquire(self, timeout: float | None) -> asyncpg.pool.PoolConnectionProxy:
        bound = timeout if timeout is not None else request_acquire_timeout()
        try:
            return await super()._acquire(bound)
        except TimeoutError as exc:
            if bound is None:
                raise
            raise PoolExhausted(bound) from exc


_SESSION_STATE = re.compile(
    r"advisory_lock|\bLISTEN\b|\bDECLARE\b|set_config|(?:\A|;)\s*(?:SET|RESET|PREPARE)\b", re.IGNORECASE
)
"""SQL that may leave state on the session past its transaction: a session advisory lock (``pg_advisory_xact_lock``
does not match), LISTEN, a cursor, a ``SET`` or ``set_config`` (even ``SET LOCAL``: cheap to be safe), a prepared
statement. Anything else a service runs ends with its transaction."""
_SESSION_STATE_SEEN: dict[str, bool] = {}


def _leaves_session_state(query: str) -> bool:
    known = _SESSION_STATE_SEEN.get(query)
    if known is None:
        known = _SESSION_STATE.search(query) is not None
        if len(_SESSION_STATE_SEEN) < 4096:  # the services' statements are a fixed set; generated ones are rare
            _SESSION_STATE_SEEN[query] = known
    return known


class Connection(asyncpg.Connection):
    """asyncpg's connection, noting whether it ran anything that outlives a transaction (``_SESSION_STATE``), so
    the pool resets only such a connection when it is released (``_reset_session``)."""

    _session_state = False

    async def execute(self, query: str, *args: object, timeout: float | None = None) -> str:
        if not args:  # with args it goes through ``_get_statement``
            _statements.inc()
            if _leaves_session_state(query):
                self._session_state = True
        return await super().execute(query, *args, timeout=timeout)

    async def _get_statement(self, query: str, timeout: float | None, **kwargs: object) -> object:
        _statements.inc()  # every statement with arguments comes here first (fetch*, execute, executemany)
        if _leaves_session_state(query):
            self._session_state = True
        return await super()._get_statement(query, timeout, **kwargs)

    async def add_listener(self, channel: str, callback: object) -> None:
        self._session_state = True
        await super().add_listener(channel, callback)


async def _reset_session(conn: Connection) -> None:
    """The pool's reset on release. asyncpg's default sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN
    *; RESET ALL`` after every release: a round trip (and four statements for Postgres) for each acquire, the
    standing check's and every command's and consumer batch's (bench/load.py --profile). Before this runs, asyncpg
    has rolled back an open transaction and dropped the listeners; the query is sent only when the connection did
    something that outlives a transaction, so what the next borrower gets is the same."""
    if conn._session_state:
        await conn.execute(conn.get_reset_query())
        conn._session_state = False


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    pool = Pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        max_queries=50_000,  # asyncpg.create_pool's defaults
        max_inactive_connection_lifetime=300.0,
        init=_init_connection,
        reset=_reset_session,
        loop=None,
        connection_class=Connection,
        record_class=asyncpg.Record,
    )
    return await pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def migrate(pool: asyncpg.Pool, migrations: list[Migration]) -> list[str]:
    """Apply the migrations not yet applied; returns their names."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for migration in migrations:
                if migration.name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", migration.name)
                applied.append(migration.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied


def text_lines(values: Sequence[object]) -> str | None:
    """``values`` as one text, a line each, if Postgres splits it back into exactly them (``lines_as_text_array``);
    else ``None`` (a value not a ``str``, a ``None``, an empty one or one holding a line break).

    Why: asyncpg checks every element of a ``text[]`` argument against the collection ABCs in Python (twice per
    text); one text a column, split by Postgres, skips that (bench/hr_import.py's first import, bench/replay.py's
    projector). The rows Postgres makes are the same."""
    try:
        joined = "\n".join(values)  # type: ignore[arg-type]  # a None (NULL) or a value not a str: TypeError
    except TypeError:
        return None
    if joined.count("\n") != len(values) - 1 or "" in values:  # a line break inside a value; an empty one
        return None
    return joined


def lines_as_text_array(number: int) -> str:
    """Parameter ``$number``, one text of lines (``text_lines``), as a ``text[]`` in SQL."""
    return f"string_to_array(${number}::text, E'\\n')"
