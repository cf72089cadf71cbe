"""Use case: the agreement's (at least) annual review, by a party or the program director."""

from __future__ import annotations

from services.relationships.application.commands import ReviewAgreement
from services.relationships.application.container import Container


async def handle(c: Container, cmd: ReviewAgreement) -> int:
    """The relationship's version after the review."""
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, cmd.relationship_id)
        events = relationship.review(
            cmd.by,
            cmd.outcome,
            c.today(),
            cmd.next_review_due_on,
            by_director=cmd.by_director,
            program=await c.programs.terms(conn, relationship.program_id),
        )
        return await c.relationships.commit(conn, relationship, events, correlation_id=cmd.correlation_id)
