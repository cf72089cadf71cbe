"""Use case: a participant (or an admin) edits part of a profile; only changed fields become events."""

from __future__ import annotations

from services.profiles.application.commands import EditProfile
from services.profiles.application.ports import Ports
from services.profiles.domain.participant import collisions_told_only_to_admins, require_email_free


async def handle(ports: Ports, cmd: EditProfile) -> tuple[int, list[str]]:
    """The version after the edit and the fields that changed (none: nothing was appended)."""
    with collisions_told_only_to_admins(cmd.by_admin):
        return await _edit(ports, cmd)


async def _edit(ports: Ports, cmd: EditProfile) -> tuple[int, list[str]]:
    async with ports.transactions() as conn:
        participant = await ports.participants.get(conn, cmd.participant_id, expected_version=cmd.expected_version)
        events = participant.edit(cmd.changes, cmd.source)
        if "email" in cmd.changes:
            email = str(cmd.changes["email"])
            require_email_free(email, await ports.people.owner_of_email(conn, email), cmd.participant_id)
        changed = [change.field for event in events for change in event.changes]
        version = await ports.participants.commit(conn, participant, events, correlation_id=cmd.correlation_id)
        return version, changed
