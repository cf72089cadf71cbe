"""What matching consumes, one table: profiles (directory, mentees, capacity, departures), HR (reporting line),
relationships (load and rematch).  Each step hands the typed event to its use case, in the consumer's
transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.matching.application import follow_hr, follow_profiles, follow_relationships
from services.matching.application.deps import Deps
from shared.bus import HR_TOPIC, topic_for
from shared.envelope import Envelope
from shared.events import Event
from shared.events.hr import WorkerHired, WorkerTransferred, WorkerUpdated
from shared.events.profiles import (
    MenteeRegistered,
    MentorCapacityChanged,
    MentorRegistered,
    ParticipantDeactivated,
    ParticipantErased,
    ParticipantReactivated,
    ProfileUpdated,
)
from shared.events.relationships import RelationshipClosed, RelationshipStarted
from shared.handlers import EventHandlers

CONSUMES = [topic_for("profiles"), HR_TOPIC, topic_for("relationships")]

UseCase = Callable[[Deps, Any, Any, Envelope], Awaitable[None]]

TABLE: tuple[tuple[type[Event], UseCase], ...] = (
    (MentorRegistered, follow_profiles.mentor_registered),
    (MenteeRegistered, follow_profiles.mentee_registered),
    (ProfileUpdated, follow_profiles.profile_updated),
    (MentorCapacityChanged, follow_profiles.capacity_changed),
    (ParticipantDeactivated, follow_profiles.deactivated),
    (ParticipantReactivated, follow_profiles.reactivated),
    (ParticipantErased, follow_profiles.erased),
    (WorkerHired, follow_hr.worker_record),
    (WorkerUpdated, follow_hr.worker_record),
    (WorkerTransferred, follow_hr.worker_transferred),
    (RelationshipStarted, follow_relationships.started),
    (RelationshipClosed, follow_relationships.closed),
)
"""Consumed event type → its use case."""


def bus_handlers(deps: Deps) -> EventHandlers:
    handlers = EventHandlers()
    for event_type, use_case in TABLE:
        handlers.add(event_type, _step(use_case, deps))
    return handlers


def _step(use_case: UseCase, deps: Deps) -> Callable[[Any, Any, Envelope], Awaitable[None]]:
    async def step(conn: Any, event: Any, envelope: Envelope) -> None:
        await use_case(deps, conn, event, envelope)

    step.__name__ = use_case.__name__
    return step
