"""Use case: a participant was erased: the notes and comments they wrote are deleted.

Relationships' events carry ids only, so nothing personal remains in them; the
confidential texts are the only personal data this service holds.
"""

from __future__ import annotations

import asyncpg


async def forget_texts_of(conn: asyncpg.Connection, participant_id: str) -> int:
    status = await conn.execute("DELETE FROM confidential_texts WHERE author_id = $1", participant_id)
    return int(status.split()[-1])
