"""The dashboard's session store on real Postgres (analytics' migrations): only a hash of the id is kept, a session
ends when it expires or is ended, a sign-in under way is taken once."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import asyncpg

from shared.auth import Principal, Role
from shared.db import migrate, migrations_from_package
from shared.web_session import PendingLogin, PostgresSessionStore

DIRECTOR = Principal(subject="demo-director", roles=frozenset({Role.admin}))


async def store_on(pool: asyncpg.Pool) -> PostgresSessionStore:
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    return PostgresSessionStore(lambda: pool)


async def test_a_session_is_found_by_its_id_only_until_it_ends(pool: asyncpg.Pool) -> None:
    store = await store_on(pool)
    session_id, session = await store.start(DIRECTOR, timedelta(hours=8))
    assert len(session_id) >= 43 and session.principal == DIRECTOR and len(session.csrf_token) >= 43
    assert (await store.find(session_id)) == session
    stored = await pool.fetchrow("SELECT * FROM web_sessions")
    assert bytes(stored["id_hash"]) == hashlib.sha256(session_id.encode()).digest()
    assert session_id not in str(dict(stored))  # the id itself is nowhere in the database
    assert await store.find(session_id[:-1] + ("A" if session_id[-1] != "A" else "B")) is None
    await store.end(session_id)
    assert await store.find(session_id) is None


async def test_an_expired_session_is_not_found(pool: asyncpg.Pool) -> None:
    store = await store_on(pool)
    session_id, session = await store.start(DIRECTOR, timedelta(seconds=2))
    assert await store.find(session_id) is not None
    await asyncio.sleep(max(0.0, (session.expires_at - datetime.now(UTC)).total_seconds()) + 0.2)
    assert await store.find(session_id) is None


async def test_a_sign_in_under_way_is_taken_once(pool: asyncpg.Pool) -> None:
    store = await store_on(pool)
    login = PendingLogin("state-1", "nonce-1", "verifier-1", "http://127.0.0.1:8005/auth/callback")
    await store.remember_login(login, timedelta(minutes=10))
    assert await store.take_login("state-1") == login
    assert await store.take_login("state-1") is None  # a replayed answer finds nothing
    await store.remember_login(PendingLogin("state-2", "n", "v", "r"), timedelta(milliseconds=200))
    await asyncio.sleep(0.4)
    assert await store.take_login("state-2") is None  # expired
