"""Use case: the agreement's (at least) annual review."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from services.relationships.application.container import Container
from services.relationships.domain.relationship import ReviewOutcome


async def review_agreement(
    c: Container,
    relationship_id: str,
    by: str,
    outcome: ReviewOutcome,
    next_review_due_on: date | None,
    *,
    by_director: bool,
    correlation_id: UUID | None = None,
) -> int:
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, relationship_id)
        if not by_director:
            relationship.require_party(by)
        events = relationship.review(by, outcome, c.today(), next_review_due_on)
        return await c.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
