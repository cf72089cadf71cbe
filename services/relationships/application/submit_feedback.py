"""Use case: a party answers the survey (at an annual review or at closure); the comment stays sealed here."""

from __future__ import annotations

from uuid import UUID

from services.relationships.application.confidential import keep
from services.relationships.application.container import Container


async def submit_feedback(
    c: Container,
    relationship_id: str,
    by: str,
    *,
    satisfaction: int,
    goals_met: bool,
    would_recommend: bool,
    comment: str | None,
    correlation_id: UUID | None = None,
) -> str:
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, relationship_id)
        events = relationship.submit_feedback(by, satisfaction, goals_met, would_recommend)
        survey = relationship.survey
        await c.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
        if comment:
            await keep(c, conn, "feedback_comment", relationship_id, f"{survey}/{by}", by, comment)
    return str(survey)
