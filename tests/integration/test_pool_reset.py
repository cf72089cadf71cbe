"""The pool hands every borrower a clean session (``shared.db``), while resetting only what needs it.

asyncpg's own reset sends a query after every release; ours sends it only after a connection ran something that
outlives its transaction. These tests hold the behaviour, not the count: whatever a borrower left behind that the
reset used to clear (a session advisory lock, a setting, a LISTEN, a cursor) is gone for the next one.
"""

from __future__ import annotations

import asyncpg

from shared.db import _leaves_session_state, create_pool


async def _one_connection(dsn: str) -> asyncpg.Pool:
    return await create_pool(dsn, min_size=1, max_size=1)  # every acquire gets the same session


async def test_a_session_advisory_lock_is_released_with_the_connection(fresh_dsn: str) -> None:
    pool = await _one_connection(fresh_dsn)
    try:
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", 42)
            pid = await conn.fetchval("SELECT pg_backend_pid()")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid
            held = await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
            assert held == 0
    finally:
        await pool.close()


async def test_settings_listens_and_cursors_do_not_reach_the_next_borrower(fresh_dsn: str) -> None:
    pool = await _one_connection(fresh_dsn)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET application_name = 'left behind'")
            await conn.execute("LISTEN left_behind")
            await conn.execute("DECLARE left_behind CURSOR WITH HOLD FOR SELECT 1")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW application_name") != "left behind"
            assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
            assert await conn.fetchval("SELECT count(*) FROM pg_cursors WHERE name = 'left_behind'") == 0
    finally:
        await pool.close()


async def test_an_open_transaction_is_rolled_back_on_release(fresh_dsn: str) -> None:
    pool = await _one_connection(fresh_dsn)
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE t (n int)")
        conn = await pool.acquire()
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t VALUES (1)")
        await pool.release(conn)
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM t") == 0
    finally:
        await pool.close()


def test_what_counts_as_session_state() -> None:
    for query in (
        "SELECT pg_try_advisory_lock($1)",
        "SELECT pg_advisory_lock($1)",
        "LISTEN outbox",
        "SET search_path = other",
        "  set statement_timeout = 1",
        "SELECT 1; SET application_name = 'x'",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        "SELECT set_config('a.b', 'c', false)",
    ):
        assert _leaves_session_state(query), query
    for query in (
        "SELECT pg_advisory_xact_lock($1)",
        "UPDATE mentors\n SET slots = slots - 1 WHERE mentor_id = $1",
        "INSERT INTO inbox (consumer_group, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        "SELECT standing FROM participant_standing WHERE participant_id = $1",
    ):
        assert not _leaves_session_state(query), query
