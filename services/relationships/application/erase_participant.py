"""Use case: a participant was erased: the notes and comments they wrote are deleted, and the texts of
their relationships' agreement drafts (goals, measures, milestones) are replaced by a placeholder.

The relationships' events are the event store's to seal (``shared`` codec); the drafts and the
confidential texts are the personal data this service keeps beside them.
"""

from __future__ import annotations

from services.relationships.application.container import Container
from shared.ports import Conn

ERASED = "[erased]"


async def forget_texts_of(c: Container, conn: Conn, participant_id: str) -> int:
    forgotten = await c.texts.forget_author(conn, participant_id)
    return forgotten + await c.drafts.forget_party(conn, participant_id, ERASED)
