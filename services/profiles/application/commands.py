"""The commands profiles accepts: what a route (or the bus, a timer, an import) builds and hands to a use case.

Each is validated for shape at the edge that builds it (a pydantic request body, a typed event off the
bus); the use case and the domain decide what it means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import JsonValue

from services.profiles.domain.participant import EditSource
from shared.events import Event
from shared.events.profiles import MenteeRegistered, MentorRegistered

# --- participants (use cases register, edit_profile, change_capacity, complete_training, erase_participant) ---


@dataclass(frozen=True)
class Register:
    """Register as mentor or mentee (the registration's type says which); ``by_admin``: the caller is the
    program office, who may be told which participant holds an e-mail or employee id."""

    registration: MentorRegistered | MenteeRegistered
    correlation_id: UUID | None = None
    by_admin: bool = False


@dataclass(frozen=True)
class EditProfile:
    """``changes``: dotted field paths (``profile.location``) to their new values; ``by_admin`` as in ``Register``."""

    participant_id: str
    changes: dict[str, JsonValue]
    source: EditSource
    expected_version: int | None = None
    correlation_id: UUID | None = None
    by_admin: bool = False


@dataclass(frozen=True)
class ChangeCapacity:
    participant_id: str
    capacity: int
    expected_version: int | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class CompleteTraining:
    participant_id: str
    kind: Literal["workshop", "handbook"]
    completed_on: date
    expected_version: int | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class EraseParticipant:
    participant_id: str
    correlation_id: UUID | None = None


# --- HR facts (record_hr_fact, follow_worker): run inside the caller's transaction ---


@dataclass(frozen=True)
class RecordHrFact:
    """One HR fact, off ``hr.events`` or from an import or SCIM: ``subject`` is the employee it was sent about;
    ``event_id`` identifies the fact (and is the cause of what the participant records)."""

    fact: Event
    event_id: UUID
    subject: str
    correlation_id: UUID


@dataclass(frozen=True)
class FollowWorker:
    """Bring the participant in line with the worker as HR sees them on ``as_of``."""

    employee_id: str
    as_of: date
    correlation_id: UUID | None = None
    causation_id: UUID | None = None


# --- bulk HR import (start_hr_import, import_hr_rows, complete_hr_import) ---


@dataclass(frozen=True)
class StartHrImport:
    mode: Literal["delta", "snapshot"]
    dry_run: bool
    as_of: date | None = None
    roster: list[str] | None = None
    max_leaver_share: float = 0.1
    force: bool = False


@dataclass(frozen=True)
class ImportHrRows:
    """``rows``: ``(row number in the file, worker fields and effective_date)``."""

    import_id: UUID
    rows: list[tuple[int, dict[str, JsonValue]]] = field(default_factory=list)


@dataclass(frozen=True)
class RecogniseHrRows:
    """``rows``: ``(row number in the file, content hash of its fields as ``shared.hr_rows.row_hash`` makes it)``."""

    import_id: UUID
    rows: list[tuple[int, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class CompleteHrImport:
    import_id: UUID


# --- SCIM provisioning (provision_scim_user) ---


@dataclass(frozen=True)
class CreateScimUser:
    body: Any


@dataclass(frozen=True)
class ReplaceScimUser:
    user_id: str
    body: Any
    expected_version: int | None = None


@dataclass(frozen=True)
class PatchScimUser:
    user_id: str
    body: Any
    expected_version: int | None = None


@dataclass(frozen=True)
class DeleteScimUser:
    user_id: str


# --- SCIM groups = departments (provision_scim_group) ---


@dataclass(frozen=True)
class CreateScimGroup:
    body: Any


@dataclass(frozen=True)
class ReplaceScimGroup:
    group_id: str
    body: Any
    expected_version: int | None = None


@dataclass(frozen=True)
class PatchScimGroup:
    group_id: str
    body: Any
    expected_version: int | None = None


@dataclass(frozen=True)
class DeleteScimGroup:
    group_id: str
