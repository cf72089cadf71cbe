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
from shared.events import Event, hr, profiles, relationships
from shared.handlers import EventHandlers

CONSUMES = [topic_for("profiles"), HR_TOPIC, topic_for("relationships")]

UseCase = Callable[[Deps, Any, Any, Envelope], Awaitable[None]]

TABLE: tuple[tuple[type[Event], UseCase], ...] = (
    (profiles.MentorRegistered, follow_profiles.mentor_registered),
    (profiles.MenteeRegistered, follow_profiles.mentee_registered),
    (profiles.ProfileUpdated, follow_profiles.profile_updated),
    (profiles.MentorCapacityChanged, follow_profiles.capacity_changed),
    (profiles.ParticipantDeactivated, follow_profiles.deactivated),
    (profiles.ParticipantReactivated, follow_profiles.reactivated),
    (profiles.ParticipantErased, follow_profiles.erased),
    (hr.WorkerHired, follow_hr.worker_record),
    (hr.WorkerUpdated, follow_hr.worker_record),
    (hr.WorkerTransferred, follow_hr.worker_transferred),
    (relationships.RelationshipStarted, follow_relationships.started),
    (relationships.RelationshipClosed, follow_relationships.closed),
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
