"""What relationships consumes: matches start relationships, departures close them, erasures delete texts."""

from __future__ import annotations

from services.relationships.application.close_relationship import close_for_departure
from services.relationships.application.container import Container
from services.relationships.application.erase_participant import forget_texts_of
from services.relationships.application.start_relationship import start_from_match
from services.relationships.domain.errors import MatchCannotStart
from shared.envelope import Envelope
from shared.events.matching import MatchApproved
from shared.events.profiles import ParticipantDeactivated, ParticipantErased
from shared.handlers import EventHandlers
from shared.ports import Conn


def bus_handlers(c: Container) -> EventHandlers:
    handlers = EventHandlers(permanent=(MatchCannotStart,))

    @handlers.on(MatchApproved)
    async def start(conn: Conn, event: MatchApproved, envelope: Envelope) -> None:
        await start_from_match(c, conn, event, envelope)

    @handlers.on(ParticipantDeactivated)
    async def close(conn: Conn, event: ParticipantDeactivated, envelope: Envelope) -> None:
        await close_for_departure(c, conn, event, envelope)

    @handlers.on(ParticipantErased)
    async def forget(conn: Conn, event: ParticipantErased, envelope: Envelope) -> None:
        await forget_texts_of(c, conn, event.participant_id)

    return handlers
