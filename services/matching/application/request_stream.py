"""Load a request from its stream; append what it decided, take the mentor's slot for a match, and rewrite
its view row and its deadline timer, all in one transaction."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.matching.application.deps import Deps
from services.matching.application.mentors import reserve
from services.matching.domain.errors import MatchingRuleViolation, NotFound
from services.matching.domain.request import MAX_CHOICES, Request
from shared.events import Event
from shared.events.matching import MatchApproved
from shared.timers import cancel, schedule

RESPONSE_DEADLINE = "request-response-deadline"

_UPSERT = """
INSERT INTO requests (request_id, version, mentee_id, status, origin, ranked_mentor_ids, biography, motivation,
                      choice_rank, mentor_id, respond_by, forwarded_to, decline_reason, matched_mentor_id,
                      submitted_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (request_id) DO UPDATE SET
    version = EXCLUDED.version, status = EXCLUDED.status, choice_rank = EXCLUDED.choice_rank,
    mentor_id = EXCLUDED.mentor_id, respond_by = EXCLUDED.respond_by, forwarded_to = EXCLUDED.forwarded_to,
    decline_reason = EXCLUDED.decline_reason, matched_mentor_id = EXCLUDED.matched_mentor_id,
    updated_at = EXCLUDED.updated_at
"""


def deadline_key(request_id: str, choice_rank: int) -> str:
    """One timer per choice, so firing one deadline never marks the next choice's as fired."""
    return f"respond:{request_id}:{choice_rank}"


async def load(conn: asyncpg.Connection, deps: Deps, request_id: str) -> Request:
    history = await deps.store.read_stream(conn, request_id)
    return Request.from_history(request_id, [(stored.event, stored.envelope.time) for stored in history])


async def load_existing(conn: asyncpg.Connection, deps: Deps, request_id: str) -> Request:
    request = await load(conn, deps, request_id)
    if not request.exists:
        raise NotFound(f"no request {request_id}")
    return request


async def commit(
    conn: asyncpg.Connection,
    deps: Deps,
    request: Request,
    events: list[Event],
    *,
    correlation_id: UUID | None = None,
    causation_id: UUID | None = None,
) -> int:
    if not events:
        return request.version
    now = deps.clock.now()
    for event in events:
        if isinstance(event, MatchApproved):
            await reserve(conn, event.mentor_id, event.mentee_id, event.match_id, now)
    await deps.store.append(
        conn, request.request_id, request.version, events, correlation_id=correlation_id, causation_id=causation_id
    )
    request.apply_all(events, now)
    await _save(conn, request, now)
    await _sync_deadline(conn, request)
    return request.version


async def _sync_deadline(conn: asyncpg.Connection, request: Request) -> None:
    for rank in range(1, MAX_CHOICES + 1):
        key = deadline_key(request.request_id, rank)
        if request.status == "forwarded" and request.choice_rank == rank:
            await schedule(conn, key, RESPONSE_DEADLINE, request.request_id, request.respond_by, {"choice_rank": rank})
        else:
            await cancel(conn, key)


async def _save(conn: asyncpg.Connection, r: Request, now) -> None:
    try:
        async with conn.transaction():
            await conn.execute(
                _UPSERT,
                r.request_id,
                r.version,
                r.mentee_id,
                r.status,
                r.origin,
                r.ranked,
                r.biography,
                r.motivation,
                r.choice_rank,
                r.mentor_id,
                r.respond_by,
                r.forwarded_to,
                r.decline_reason,
                r.matched_mentor_id,
                r.submitted_at or now,
                now,
            )
    except asyncpg.UniqueViolationError as exc:
        raise MatchingRuleViolation(f"mentee {r.mentee_id} already has an open request") from exc
