"""The commands the relationships service accepts: what a route builds from a request and hands to its use case.

Shape is checked at the edge (``adapters/requests.py``); meaning by the aggregate when the use case decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import date
from uuid import UUID

from services.relationships.domain.agreement import AgreementProposal, AgreementTerms
from services.relationships.domain.relationship import GoalStatus, Model, ReviewOutcome
from shared.events.profiles import MeetingFormat
from shared.events.relationships import DEFAULT_PROGRAM, ClosureReason


@dataclass(frozen=True)
class StartRelationship:
    """The director starts a relationship (group and peer ones; one-to-one ones also start from a match, groups
    and peer circles from a formed group)."""

    model: Model
    mentor_id: str | None
    mentee_ids: Sequence[str]
    match_id: str | None = None
    correlation_id: UUID | None = None
    co_mentor_ids: Sequence[str] = ()
    program_id: str = DEFAULT_PROGRAM


@dataclass(frozen=True)
class StartGroup:
    """Matching formed a group or a peer circle (``GroupFormed``): start it, once per match."""

    match_id: str
    program_id: str
    model: Model
    mentor_ids: Sequence[str]
    mentee_ids: Sequence[str]


@dataclass(frozen=True)
class OnRelationship:
    """A command on one relationship by one caller: ``by`` is the token's subject, ``correlation_id`` the
    request's (carried into the events it records)."""

    relationship_id: str
    by: str
    _: KW_ONLY
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class ProposeAgreement(OnRelationship):
    proposal: AgreementProposal | AgreementTerms
    """A proposal takes the program's cadence where it has none; terms are taken as they are."""


@dataclass(frozen=True)
class SignAgreement(OnRelationship):
    revision: int
    confidentiality_accepted: bool
    no_fault_termination_acknowledged: bool


@dataclass(frozen=True)
class LogMeeting(OnRelationship):
    held_on: date
    duration_minutes: int
    format: MeetingFormat
    topic_tags: Sequence[str] = ()
    notes: str | None = None
    attendee_ids: Sequence[str] | None = None


@dataclass(frozen=True)
class SetGoal(OnRelationship):
    text: str
    measure: str
    due_on: date
    mentee_id: str | None = None


@dataclass(frozen=True)
class ProgressGoal(OnRelationship):
    goal_id: str
    status: GoalStatus
    progress_percent: int = 0


@dataclass(frozen=True)
class ReviewAgreement(OnRelationship):
    outcome: ReviewOutcome
    next_review_due_on: date | None = None
    by_director: bool = field(default=False, kw_only=True)


@dataclass(frozen=True)
class CloseRelationship(OnRelationship):
    reason: ClosureReason
    by_director: bool = field(default=False, kw_only=True)
    rematch_requested: bool = False


@dataclass(frozen=True)
class LeaveRelationship(OnRelationship):
    """A member leaves a group or a peer circle (themselves, or the director records it)."""

    participant_id: str
    by_director: bool = field(default=False, kw_only=True)
