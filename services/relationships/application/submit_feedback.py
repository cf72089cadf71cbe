"""Use case: a party answers the survey (at an annual review or at closure); the comment stays sealed here."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.relationships.adapters import confidential
from services.relationships.application.deps import Deps


async def submit_feedback(
    pool: asyncpg.Pool,
    deps: Deps,
    relationship_id: str,
    by: str,
    *,
    satisfaction: int,
    goals_met: bool,
    would_recommend: bool,
    comment: str | None,
    correlation_id: UUID | None = None,
) -> str:
    async with pool.acquire() as conn, conn.transaction():
        relationship = await deps.relationships.get(conn, relationship_id)
        events = relationship.submit_feedback(by, satisfaction, goals_met, would_recommend)
        survey = relationship.survey
        await deps.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
        if comment:
            await confidential.write(
                conn, deps.cipher, "feedback_comment", relationship_id, f"{survey}/{by}", by, comment, deps.clock.now()
            )
    return str(survey)
