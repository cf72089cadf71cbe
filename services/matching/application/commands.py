"""The commands (and queries) matching accepts: what a route builds and hands to its use case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from services.matching.domain.bulk_run import Mode
from services.matching.domain.enrolment import Role
from services.matching.domain.program import DEFAULT_PROGRAM, Settings


@dataclass(frozen=True)
class SubmitRequest:
    mentee_id: str
    biography: str
    motivation: str
    ranked_mentor_ids: tuple[str, ...]
    correlation_id: UUID | None = None
    program_id: str = DEFAULT_PROGRAM


@dataclass(frozen=True)
class ReviewRequest:
    request_id: str
    reviewer_id: str
    approved: bool
    decline_reason: str | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class RespondToRequest:
    request_id: str
    mentor_id: str
    accepted: bool
    reason: str | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class AdminMatch:
    request_id: str
    admin_id: str
    mentor_id: str
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class WithdrawRequest:
    request_id: str
    subject: str
    director: bool
    reason: str | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class SuggestMentors:
    mentee_id: str
    subject: str
    director: bool
    k: int = 5
    program_id: str = DEFAULT_PROGRAM


@dataclass(frozen=True)
class ChangeProgram:
    """Either or both: the six weights by name, the days a forwarded mentor has to answer."""

    program_id: str = DEFAULT_PROGRAM
    weights: Mapping[str, int] | None = None
    response_days: int | None = None
    changed_by: str = "director"
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class DefineProgram:
    program_id: str
    settings: Settings
    defined_by: str
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class UpdateProgram:
    """The full settings; ``expected_version``: the ``If-Match`` the director sent (None: none)."""

    program_id: str
    settings: Settings
    changed_by: str
    expected_version: int | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class Enrol:
    program_id: str
    participant_id: str
    role: Role
    capacity: int | None
    by: str
    director: bool
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class Unenrol:
    program_id: str
    participant_id: str
    by: str
    director: bool
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class FormGroup:
    program_id: str
    mentor_ids: tuple[str, ...]
    mentee_ids: tuple[str, ...]
    formed_by: str
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class ProposeBulkRun:
    admin_id: str
    mode: Mode
    mentee_ids: tuple[str, ...] | None = None
    """None: every active mentee with no open request and no mentor."""
    pinned: Mapping[str, str] = field(default_factory=dict)
    forbidden: tuple[tuple[str, str], ...] = ()
    correlation_id: UUID | None = None
    program_id: str = DEFAULT_PROGRAM


@dataclass(frozen=True)
class CommitBulkRun:
    run_id: str
    admin_id: str
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class DiscardBulkRun:
    run_id: str
    admin_id: str


@dataclass(frozen=True)
class ShowTimeline:
    request_id: str
    subject: str
    director: bool
