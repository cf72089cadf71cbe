"""Use case: register as mentor or mentee, onto a new participant or onto the person record HR created.

A staff member's registration lands on the participant HR already created for
them (same participant id, or named by ``employee_id``); an employee id or an
email that belongs to someone else is refused (who holds it is told to admins only).
"""

from __future__ import annotations

from services.profiles.application.commands import Register
from services.profiles.application.ports import Ports
from services.profiles.domain.participant import (
    collisions_told_only_to_admins,
    require_email_free,
    require_employee_free,
)
from shared.repository import deciding_afresh


async def handle(ports: Ports, cmd: Register) -> int:
    """The participant's version after the registration."""
    with collisions_told_only_to_admins(cmd.by_admin):
        return await deciding_afresh(lambda: _register(ports, cmd))


async def _register(ports: Ports, cmd: Register) -> int:
    registration = cmd.registration
    participant_id = registration.participant_id
    async with ports.transactions() as conn:
        participant = await ports.participants.load(conn, participant_id)
        events = participant.register(registration)
        require_email_free(
            registration.email, await ports.people.owner_of_email(conn, registration.email), participant_id
        )
        if registration.employee_id is not None:
            owner = await ports.people.owner_of_employee(conn, registration.employee_id)
            require_employee_free(registration.employee_id, owner, participant_id)
        return await ports.participants.commit(conn, participant, events, correlation_id=cmd.correlation_id)
