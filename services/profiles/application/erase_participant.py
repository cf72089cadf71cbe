"""Use case: erase a person (right to erasure) — ``ParticipantErased``, and their personal data is gone.

In one transaction: the event is appended (it carries no personal data), the
read-model row is removed by the repository's hook (a tombstone remembers only
that they were erased), the HR facts and SCIM user about their worker are
deleted and later ones are not kept, and their data key is shredded, so
whatever was sealed under it reads as placeholders from now on; what was removed
or made unreadable is kept as the erasure receipt (counts only).  Erasing twice
changes nothing.
"""

from __future__ import annotations

from services.profiles.application.commands import EraseParticipant
from services.profiles.application.ports import Ports


async def handle(ports: Ports, cmd: EraseParticipant) -> bool:
    """True when this call erased them, False when they already were."""
    async with ports.transactions() as conn:
        participant = await ports.participants.get(conn, cmd.participant_id)
        events = participant.erase()
        if not events:
            return False
        before = await ports.receipts.look(conn, cmd.participant_id)
        await ports.participants.commit(conn, participant, events, correlation_id=cmd.correlation_id)
        await ports.hr.erase_worker(conn, cmd.participant_id)
        await ports.keys.shred(conn, cmd.participant_id)
        await ports.receipts.record(conn, cmd.participant_id, before)
        return True
