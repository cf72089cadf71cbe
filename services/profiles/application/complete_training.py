"""Use case: record that a mentor completed the workshop or read the handbook (not on a future date)."""

from __future__ import annotations

from services.profiles.application.commands import CompleteTraining
from services.profiles.application.ports import Ports


async def handle(ports: Ports, cmd: CompleteTraining) -> int:
    async with ports.transactions() as conn:
        participant = await ports.participants.get(conn, cmd.participant_id, expected_version=cmd.expected_version)
        events = participant.complete_training(cmd.kind, cmd.completed_on, today=ports.clock.now().date())
        return await ports.participants.commit(conn, participant, events, correlation_id=cmd.correlation_id)
