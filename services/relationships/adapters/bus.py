"""What relationships consumes: matches and formed groups start relationships, programs set their terms,
departures and erasures let people go (and erasures delete their texts)."""

from __future__ import annotations

from services.relationships.application.close_relationship import close_for_departure
from services.relationships.application.commands import StartGroup
from services.relationships.application.container import Container
from services.relationships.application.erase_participant import forget_texts_of
from services.relationships.application.follow_programs import keep_terms
from services.relationships.application.leave_relationship import leave_all
from services.relationships.application.start_relationship import start_from_group, start_from_match
from services.relationships.domain.errors import MatchCannotStart
from services.relationships.domain.program import Terms
from shared.envelope import Envelope
from shared.events.matching import GroupFormed, MatchApproved, ProgramChanged, ProgramDefined
from shared.events.profiles import ParticipantDeactivated, ParticipantErased
from shared.handlers import EventHandlers
from shared.ports import Conn


def bus_handlers(c: Container) -> EventHandlers:
    handlers = EventHandlers(permanent=(MatchCannotStart,))

    @handlers.on(MatchApproved)
    async def start(conn: Conn, event: MatchApproved, envelope: Envelope) -> None:
        await start_from_match(c, conn, event, envelope)

    @handlers.on(GroupFormed)
    async def start_group(conn: Conn, event: GroupFormed, envelope: Envelope) -> None:
        group = StartGroup(event.match_id, event.program_id, event.model, event.mentor_ids, event.mentee_ids)
        await start_from_group(c, conn, group, envelope)

    @handlers.on(ProgramDefined, ProgramChanged)
    async def program(conn: Conn, event: ProgramDefined | ProgramChanged, envelope: Envelope) -> None:
        await keep_terms(c, conn, terms_of(event))

    @handlers.on(ParticipantDeactivated)
    async def close(conn: Conn, event: ParticipantDeactivated, envelope: Envelope) -> None:
        await close_for_departure(c, conn, event, envelope)

    @handlers.on(ParticipantErased)
    async def forget(conn: Conn, event: ParticipantErased, envelope: Envelope) -> None:
        await leave_all(c, conn, event.participant_id, "erased", envelope.correlationid, envelope.id)
        await forget_texts_of(c, conn, event.participant_id)

    return handlers


def terms_of(event: ProgramDefined | ProgramChanged) -> Terms:
    """The settings relationships applies, out of the program's full settings."""
    return Terms(
        program_id=event.program_id,
        model=event.model,
        cadence_weeks_min=event.cadence_weeks_min,
        cadence_weeks_max=event.cadence_weeks_max,
        review_interval_months=event.review_interval_months,
        inactivity_days=event.inactivity_days,
        surveys=tuple(event.surveys),
    )
