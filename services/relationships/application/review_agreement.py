"""Use case: the agreement's (at least) annual review."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from services.relationships.application.deps import Deps
from services.relationships.domain.relationship import ReviewOutcome


async def review_agreement(
    pool: asyncpg.Pool,
    deps: Deps,
    relationship_id: str,
    by: str,
    outcome: ReviewOutcome,
    next_review_due_on: date | None,
    *,
    by_director: bool,
    correlation_id: UUID | None = None,
) -> int:
    async with pool.acquire() as conn, conn.transaction():
        relationship = await deps.relationships.get(conn, relationship_id)
        if not by_director:
            relationship.require_party(by)
        events = relationship.review(by, outcome, deps.today(), next_review_due_on)
        return await deps.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
