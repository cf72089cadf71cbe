"""What scheduling consumes from profiles: each person's time zone (registrations and updates); erasure."""

from __future__ import annotations

from services.relationships.application.schedule_meeting import Scheduling, forget_calendar, keep_time_zone
from shared.envelope import Envelope
from shared.events.profiles import MenteeRegistered, MentorRegistered, ParticipantErased, ProfileUpdated
from shared.handlers import EventHandlers
from shared.ports import Conn

TIME_ZONE_FIELD = "profile.time_zone"


def add_scheduling_handlers(handlers: EventHandlers, s: Scheduling) -> EventHandlers:
    """Adds scheduling's steps to the service's table (after its own steps for the same types)."""

    async def registered(conn: Conn, event: MentorRegistered | MenteeRegistered, envelope: Envelope) -> None:
        await keep_time_zone(s, conn, event.participant_id, event.profile.time_zone)

    async def updated(conn: Conn, event: ProfileUpdated, envelope: Envelope) -> None:
        for change in event.changes:
            if change.field == TIME_ZONE_FIELD:
                await keep_time_zone(s, conn, event.participant_id, change.new)  # type: ignore[arg-type]

    async def erased(conn: Conn, event: ParticipantErased, envelope: Envelope) -> None:
        await forget_calendar(s, conn, event.participant_id)

    handlers.add(MentorRegistered, registered)
    handlers.add(MenteeRegistered, registered)
    handlers.add(ProfileUpdated, updated)
    handlers.add(ParticipantErased, erased)
    return handlers
