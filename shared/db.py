"""Connection pool and versioned migrations for a service's own database.

Migrations are ``(name, sql)`` pairs applied in order and recorded in
``schema_migrations``.  An advisory lock serialises replicas that start at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import asyncpg

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


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)


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
