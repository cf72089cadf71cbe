"""What notifications consumes (matching, relationships and profiles events): one handler table.

Each row is one step for one event type; an event type with several steps (``RequestForwarded``: tell
the mentor, then set the reminder) runs them in the order of the rows, in the consumer's transaction.
``told`` steps record notices with the event id as their cause; ``noted`` steps only keep facts or
timers.  An event about a request or relationship never seen is dead-lettered (``PermanentError``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.notifications.application import contacts, meetings, reminders, surveys, tell
from services.notifications.application.deps import Deps
from services.notifications.domain.errors import UnknownSubject
from shared.events import Event, matching, profiles, relationships
from shared.handlers import EventHandlers, Step


def bus_handlers(deps: Deps) -> EventHandlers:
    def told(use_case: Callable[[Deps, Any, Any, str], Awaitable[None]]) -> Step:
        return lambda conn, event, envelope: use_case(deps, conn, event, str(envelope.id))

    def noted(use_case: Callable[[Deps, Any, Any], Awaitable[None]]) -> Step:
        return lambda conn, event, _: use_case(deps, conn, event)

    steps: list[tuple[type[Event], Step]] = [
        (matching.RequestRanked, told(tell.request_ranked)),
        (matching.RequestReviewed, told(tell.request_reviewed)),
        (matching.RequestForwarded, told(tell.request_forwarded)),
        (matching.RequestForwarded, noted(reminders.remind_before_deadline)),
        (matching.MentorResponded, noted(reminders.mentor_answered)),
        (matching.RequestExpired, noted(reminders.mentor_answered)),
        (matching.RequestExpired, told(tell.request_expired)),
        (matching.MatchApproved, told(tell.match_approved)),
        (matching.RequestUnmatched, told(tell.request_unmatched)),
        (relationships.RelationshipStarted, noted(tell.relationship_started)),
        (relationships.AgreementSigned, noted(reminders.agreement_signed)),
        (relationships.MeetingLogged, noted(reminders.meeting_logged)),
        (relationships.RelationshipLagging, told(tell.relationship_lagging)),
        (relationships.AgreementReviewDue, told(tell.review_due)),
        (relationships.MeetingProposed, told(meetings.proposed)),
        (relationships.MeetingAccepted, told(meetings.accepted)),
        (relationships.MeetingRescheduled, told(meetings.rescheduled)),
        (relationships.MeetingCancelled, told(meetings.cancelled)),
        (relationships.MeetingHeld, noted(meetings.held)),
        (relationships.MeetingNudgeDue, told(meetings.nudge_due)),
        (relationships.ReengagementNudged, told(meetings.reengagement)),
        (relationships.RelationshipInactive, told(meetings.inactive)),
        (relationships.SurveyOpened, told(surveys.opened)),
        (relationships.RelationshipClosed, noted(reminders.relationship_closed)),
        (relationships.RelationshipClosed, told(tell.relationship_closed)),
        (profiles.MentorRegistered, noted(contacts.registered)),
        (profiles.MenteeRegistered, noted(contacts.registered)),
        (profiles.ProfileUpdated, noted(contacts.profile_updated)),
        (profiles.ParticipantErased, noted(contacts.erased)),
    ]
    handlers = EventHandlers(permanent=(UnknownSubject,))
    for event_type, step in steps:
        handlers.add(event_type, step)
    return handlers
