"""Use cases: set a goal, record its progress (achieved and dropped are final)."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

from services.relationships.application.container import Container
from services.relationships.domain.relationship import GoalStatus
from shared.events.relationships import SmartGoal


async def set_goal(
    c: Container,
    relationship_id: str,
    by: str,
    *,
    mentee_id: str | None,
    text: str,
    measure: str,
    due_on: date,
    correlation_id: UUID | None = None,
) -> str:
    goal = SmartGoal(goal_id=str(uuid.uuid4()), text=text, measure=measure, due_on=due_on)
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, relationship_id)
        events = relationship.set_goal(by, mentee_id, goal, c.today())
        await c.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
    return goal.goal_id


async def progress_goal(
    c: Container,
    relationship_id: str,
    by: str,
    goal_id: str,
    status: GoalStatus,
    progress_percent: int,
    correlation_id: UUID | None = None,
) -> int:
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, relationship_id)
        events = relationship.progress_goal(by, goal_id, status, progress_percent)
        return await c.relationships.commit(conn, relationship, events, correlation_id=correlation_id)
