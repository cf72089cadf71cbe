"""Use case: a participant was erased: the notes and comments they wrote are deleted.

Relationships' events carry ids only, so nothing personal remains in them; the
confidential texts are the only personal data this service holds.
"""

from __future__ import annotations

from services.relationships.application.container import Container
from shared.ports import Conn


async def forget_texts_of(c: Container, conn: Conn, participant_id: str) -> int:
    return await c.texts.forget_author(conn, participant_id)
