"""Use case: a mentee asks for mentorship, ranking one to three mentors."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from services.matching.application.deps import Deps
from services.matching.application.mentors import exclusions
from services.matching.domain.errors import InvalidCommand, MatchingRuleViolation
from services.matching.domain.request import OPEN, Request, check_choices


async def submit_request(
    pool: asyncpg.Pool,
    deps: Deps,
    mentee_id: str,
    biography: str,
    motivation: str,
    ranked: Sequence[str],
    correlation_id: UUID | None = None,
) -> str:
    check_choices(mentee_id, ranked)
    request = Request(str(uuid.uuid4()))
    async with pool.acquire() as conn, conn.transaction():
        active = await conn.fetchval("SELECT active FROM mentees WHERE mentee_id = $1", mentee_id)
        if active is None:
            raise MatchingRuleViolation(f"{mentee_id} is not a registered mentee")
        if not active:
            raise MatchingRuleViolation(f"mentee {mentee_id} is deactivated")
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('mentee-request:' || $1))", mentee_id)
        open_request = await conn.fetchval(
            "SELECT request_id FROM requests WHERE mentee_id = $1 AND status = ANY($2::text[])", mentee_id, list(OPEN)
        )
        if open_request:
            raise MatchingRuleViolation(f"mentee {mentee_id} already has an open request {open_request}")
        mentor = await conn.fetchval("SELECT mentor_id FROM active_pairs WHERE mentee_id = $1 LIMIT 1", mentee_id)
        if mentor:
            raise MatchingRuleViolation(f"mentee {mentee_id} already has a mentor ({mentor})")
        for why in (await exclusions(conn, mentee_id, ranked)).values():
            if why is not None:
                raise InvalidCommand("ranked_mentor_ids", why)
        await _supersede_unmatched(conn, deps, mentee_id, request.request_id, correlation_id)
        events = request.submit(mentee_id, biography, motivation, ranked)
        await deps.requests.commit(conn, request, events, correlation_id=correlation_id)
    return request.request_id


async def _supersede_unmatched(
    conn: asyncpg.Connection, deps: Deps, mentee_id: str, new_request_id: str, correlation_id: UUID | None
) -> None:
    """A new request replaces one still waiting for the director's match."""
    waiting = await conn.fetch(
        "SELECT request_id FROM requests WHERE mentee_id = $1 AND status = 'unmatched'", mentee_id
    )
    for row in waiting:
        old = await deps.requests.load(conn, row["request_id"])
        await deps.requests.commit(
            conn, old, old.withdraw(f"superseded by request {new_request_id}"), correlation_id=correlation_id
        )
