"""What relationships consumes: matches start relationships, departures close them, erasures delete texts."""

from __future__ import annotations

import asyncpg

from services.relationships.application.close_relationship import close_for_departure
from services.relationships.application.deps import Deps
from services.relationships.application.erase_participant import forget_texts_of
from services.relationships.application.start_relationship import start_from_match
from services.relationships.domain.errors import InvalidCommand
from shared.envelope import Envelope
from shared.events import Event
from shared.events.matching import MatchApproved
from shared.events.profiles import ParticipantDeactivated, ParticipantErased
from shared.inbox import Handler, PermanentError


def bus_handlers(deps: Deps) -> dict[str, Handler]:
    async def on_match_approved(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, MatchApproved)
        try:
            await start_from_match(conn, deps, event, envelope)
        except InvalidCommand as exc:
            raise PermanentError(f"match {event.match_id} cannot start a relationship: {exc}") from exc

    async def on_participant_deactivated(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, ParticipantDeactivated)
        await close_for_departure(conn, deps, event, envelope)

    async def on_participant_erased(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, ParticipantErased)
        await forget_texts_of(conn, event.participant_id)

    return {
        MatchApproved.type_name(): on_match_approved,
        ParticipantDeactivated.type_name(): on_participant_deactivated,
        ParticipantErased.type_name(): on_participant_erased,
    }
