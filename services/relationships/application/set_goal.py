"""Use case: a party sets a SMART goal for a mentee (the caller, or the sole mentee, unless named)."""

from __future__ import annotations

import uuid

from services.relationships.application.commands import SetGoal
from services.relationships.application.container import Container
from shared.events.relationships import SmartGoal


async def handle(c: Container, cmd: SetGoal) -> str:
    """The new goal's id."""
    goal = SmartGoal(goal_id=str(uuid.uuid4()), text=cmd.text, measure=cmd.measure, due_on=cmd.due_on)
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, cmd.relationship_id)
        events = relationship.set_goal(cmd.by, cmd.mentee_id, goal, c.today())
        await c.relationships.commit(conn, relationship, events, correlation_id=cmd.correlation_id)
    return goal.goal_id
