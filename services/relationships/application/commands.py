"""The commands the relationships service accepts: what a route builds from a request and hands to its use case.

``by`` is the caller (the token's subject); ``correlation_id`` the request's, carried into the events.
Shape is checked at the edge (``adapters/requests.py``); meaning by the aggregate when the use case decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from services.relationships.domain.agreement import AgreementTerms
from services.relationships.domain.relationship import GoalStatus, Model, ReviewOutcome
from shared.events.profiles import MeetingFormat
from shared.events.relationships import ClosureReason


@dataclass(frozen=True)
class StartRelationship:
    """The director starts a relationship (group and peer ones; one-to-one ones also start from a match)."""

    model: Model
    mentor_id: str
    mentee_ids: Sequence[str]
    match_id: str | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class ProposeAgreement:
    relationship_id: str
    by: str
    terms: AgreementTerms


@dataclass(frozen=True)
class SignAgreement:
    relationship_id: str
    by: str
    revision: int
    confidentiality_accepted: bool
    no_fault_termination_acknowledged: bool
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class LogMeeting:
    relationship_id: str
    by: str
    held_on: date
    duration_minutes: int
    format: MeetingFormat
    topic_tags: Sequence[str] = ()
    notes: str | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class SetGoal:
    relationship_id: str
    by: str
    text: str
    measure: str
    due_on: date
    mentee_id: str | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class ProgressGoal:
    relationship_id: str
    by: str
    goal_id: str
    status: GoalStatus
    progress_percent: int = 0
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class ReviewAgreement:
    relationship_id: str
    by: str
    outcome: ReviewOutcome
    next_review_due_on: date | None = None
    by_director: bool = False
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class CloseRelationship:
    relationship_id: str
    by: str
    reason: ClosureReason
    by_director: bool = False
    rematch_requested: bool = False
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class SubmitFeedback:
    relationship_id: str
    by: str
    satisfaction: int
    goals_met: bool
    would_recommend: bool
    comment: str | None = None
    correlation_id: UUID | None = None
