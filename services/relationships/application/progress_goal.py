"""Use case: a party records a goal's progress (achieved and dropped are final)."""

from __future__ import annotations

from services.relationships.application.commands import ProgressGoal
from services.relationships.application.container import Container


async def handle(c: Container, cmd: ProgressGoal) -> int:
    """The relationship's version after the change."""
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, cmd.relationship_id)
        events = relationship.progress_goal(cmd.by, cmd.goal_id, cmd.status, cmd.progress_percent)
        return await c.relationships.commit(conn, relationship, events, correlation_id=cmd.correlation_id)
