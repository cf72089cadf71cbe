"""Use case: a party answers the survey (at an annual review or at closure); the comment stays sealed here."""

from __future__ import annotations

from services.relationships.application.commands import SubmitFeedback
from services.relationships.application.confidential import keep
from services.relationships.application.container import Container


async def handle(c: Container, cmd: SubmitFeedback) -> str:
    """The survey answered (``review:<due date>`` or ``closure``)."""
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, cmd.relationship_id)
        events = relationship.submit_feedback(cmd.by, cmd.satisfaction, cmd.goals_met, cmd.would_recommend)
        survey = str(relationship.survey)
        await c.relationships.commit(conn, relationship, events, correlation_id=cmd.correlation_id)
        if cmd.comment:
            await keep(c, conn, "feedback_comment", cmd.relationship_id, f"{survey}/{cmd.by}", cmd.by, cmd.comment)
    return survey
