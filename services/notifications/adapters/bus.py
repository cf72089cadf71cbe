"""What notifications consumes: matching, relationships and profiles events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from services.notifications.application import contacts, reminders, tell
from services.notifications.application.deps import Deps
from shared.envelope import Envelope
from shared.events import Event
from shared.events.matching import (
    MatchApproved,
    MentorResponded,
    RequestExpired,
    RequestForwarded,
    RequestRanked,
    RequestReviewed,
    RequestUnmatched,
)
from shared.events.profiles import (
    MenteeRegistered,
    MentorRegistered,
    ParticipantErased,
    ProfileUpdated,
)
from shared.events.relationships import (
    AgreementReviewDue,
    AgreementSigned,
    MeetingLogged,
    RelationshipClosed,
    RelationshipLagging,
    RelationshipStarted,
)
from shared.inbox import Handler

Step = Callable[[asyncpg.Connection, Event, Envelope], Awaitable[None]]


def bus_handlers(deps: Deps) -> dict[str, Handler]:
    def told(use_case) -> Step:
        return lambda conn, event, envelope: use_case(conn, deps, event, envelope)

    async def forwarded(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        await tell.on_request_forwarded(conn, deps, event, envelope)
        await reminders.remind_before_deadline(conn, deps, event)

    async def expired(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        await reminders.mentor_answered(conn, event)
        await tell.on_request_expired(conn, deps, event, envelope)

    async def closed(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        await reminders.relationship_closed(conn, event)
        await tell.on_relationship_closed(conn, deps, event, envelope)

    steps: dict[type[Event], Step] = {
        RequestRanked: told(tell.on_request_ranked),
        RequestReviewed: told(tell.on_request_reviewed),
        RequestForwarded: forwarded,
        MentorResponded: lambda conn, event, _: reminders.mentor_answered(conn, event),
        RequestExpired: expired,
        MatchApproved: told(tell.on_match_approved),
        RequestUnmatched: told(tell.on_request_unmatched),
        RelationshipStarted: told(tell.on_relationship_started),
        AgreementSigned: lambda conn, event, _: reminders.agreement_signed(conn, deps, event),
        MeetingLogged: lambda conn, event, _: reminders.meeting_logged(conn, deps, event),
        RelationshipLagging: told(tell.on_lagging),
        AgreementReviewDue: told(tell.on_review_due),
        RelationshipClosed: closed,
        MentorRegistered: lambda conn, event, _: contacts.on_registered(conn, event),
        MenteeRegistered: lambda conn, event, _: contacts.on_registered(conn, event),
        ProfileUpdated: lambda conn, event, _: contacts.on_profile_updated(conn, event),
        ParticipantErased: lambda conn, event, _: contacts.on_erased(conn, event),
    }
    return {event_type.type_name(): step for event_type, step in steps.items()}
