"""Use case: a mentor sets how many mentees they take at once (0 = not taking mentees)."""

from __future__ import annotations

from services.profiles.application.commands import ChangeCapacity
from services.profiles.application.ports import Ports


async def handle(ports: Ports, cmd: ChangeCapacity) -> int:
    async with ports.transactions() as conn:
        participant = await ports.participants.get(conn, cmd.participant_id, expected_version=cmd.expected_version)
        events = participant.change_capacity(cmd.capacity)
        return await ports.participants.commit(conn, participant, events, correlation_id=cmd.correlation_id)
