"""What notifications consumes (matching, relationships and profiles events): one handler table.

Each row is one step for one event type; an event type with several steps (``RequestForwarded``: tell
the mentor, then set the reminder) runs them in the order of the rows, in the consumer's transaction.
``told`` steps record notices with the event id as their cause; ``noted`` steps only keep facts or
timers.  An event about a request or relationship never seen is dead-lettered (``PermanentError``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.notifications.application import contacts, reminders, tell
from services.notifications.application.deps import Deps
from services.notifications.domain.errors import UnknownSubject
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
from shared.events.profiles import MenteeRegistered, MentorRegistered, ParticipantErased, ProfileUpdated
from shared.events.relationships import (
    AgreementReviewDue,
    AgreementSigned,
    MeetingLogged,
    RelationshipClosed,
    RelationshipLagging,
    RelationshipStarted,
)
from shared.handlers import EventHandlers, Step
from shared.inbox import PermanentError


def bus_handlers(deps: Deps) -> EventHandlers:
    def told(use_case: Callable[[Deps, Any, Any, str], Awaitable[None]]) -> Step:
        return lambda conn, event, envelope: use_case(deps, conn, event, str(envelope.id))

    def noted(use_case: Callable[[Deps, Any, Any], Awaitable[None]]) -> Step:
        return lambda conn, event, _: use_case(deps, conn, event)

    steps: list[tuple[type[Event], Step]] = [
        (RequestRanked, told(tell.request_ranked)),
        (RequestReviewed, told(tell.request_reviewed)),
        (RequestForwarded, told(tell.request_forwarded)),
        (RequestForwarded, noted(reminders.remind_before_deadline)),
        (MentorResponded, noted(reminders.mentor_answered)),
        (RequestExpired, noted(reminders.mentor_answered)),
        (RequestExpired, told(tell.request_expired)),
        (MatchApproved, told(tell.match_approved)),
        (RequestUnmatched, told(tell.request_unmatched)),
        (RelationshipStarted, noted(tell.relationship_started)),
        (AgreementSigned, noted(reminders.agreement_signed)),
        (MeetingLogged, noted(reminders.meeting_logged)),
        (RelationshipLagging, told(tell.relationship_lagging)),
        (AgreementReviewDue, told(tell.review_due)),
        (RelationshipClosed, noted(reminders.relationship_closed)),
        (RelationshipClosed, told(tell.relationship_closed)),
        (MentorRegistered, noted(contacts.registered)),
        (MenteeRegistered, noted(contacts.registered)),
        (ProfileUpdated, noted(contacts.profile_updated)),
        (ParticipantErased, noted(contacts.erased)),
    ]
    handlers = EventHandlers()
    for event_type, step in steps:
        handlers.add(event_type, _dead_letter_unknown(step))
    return handlers


def _dead_letter_unknown(step: Step) -> Step:
    async def run(conn: Any, event: Event, envelope: Envelope) -> None:
        try:
            await step(conn, event, envelope)
        except UnknownSubject as exc:
            raise PermanentError(str(exc)) from exc

    return run
