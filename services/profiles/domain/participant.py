"""Participant aggregate: decides from commands, evolves from its events.  No I/O.

The profile is held flat, as dotted paths (``profile.interests``,
``availability.formats``, ``demographics.gender``), so an edit is compared field
by field and only what differs becomes a ``FieldChange``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import JsonValue

from shared.aggregate import Aggregate
from shared.errors import InvalidCommand, NotFound, RuleViolation
from shared.events import Event
from shared.events.profiles import (
    Availability,
    Demographics,
    MenteeRegistered,
    MentorCapacityChanged,
    MentorRegistered,
    MentorTrainingCompleted,
    ParticipantDeactivated,
    ParticipantErased,
    ParticipantReactivated,
    ProfileFields,
    ProfileUpdated,
)

EditSource = Literal["participant", "admin", "hr_feed"]
EmploymentStatus = Literal["active", "leave", "terminated"]

PERSON_FIELDS = ("name", "email", "employee_id", "priority_group")
PROFILE_FIELDS = tuple(f"profile.{name}" for name in ProfileFields.model_fields)
AVAILABILITY_FIELDS = tuple(f"availability.{name}" for name in Availability.model_fields)
DEMOGRAPHIC_ANSWERS = tuple(f"demographics.{name}" for name in Demographics.model_fields if name != "consented")
CONSENT = "demographics.consented"
EDITABLE = frozenset(PERSON_FIELDS + PROFILE_FIELDS + AVAILABILITY_FIELDS + DEMOGRAPHIC_ANSWERS + (CONSENT,))
HR_ONLY = frozenset({"employee_id"})

_HR_DEACTIVATION = {"leave": "on_leave", "terminated": "left_institution"}


class ParticipantRuleViolation(RuleViolation):
    """A command the participant's current state does not allow (409)."""


class InvalidChange(InvalidCommand):
    """An edit that names an unknown field or breaks a rule about one field's value (422 naming the field)."""


class ParticipantNotFound(NotFound):
    def __init__(self, participant_id: str) -> None:
        super().__init__(f"no participant {participant_id}")


class EmailTaken(ParticipantRuleViolation):
    """The email belongs to another participant."""


class EmployeeTaken(ParticipantRuleViolation):
    """The employee id belongs to another participant."""


class IdentifierRefused(ParticipantRuleViolation):
    """What a caller who is not an admin hears when an e-mail or employee id is held by someone else.

    It names neither the owner nor the fact that the identifier is taken, so a participant cannot probe
    who is registered; the program office (an admin) gets the full ``EmailTaken`` / ``EmployeeTaken``.
    """

    def __init__(self) -> None:
        super().__init__(
            "these details cannot be used for this participant (e-mail address or employee id);"
            " the program office can help"
        )


@contextmanager
def collisions_told_only_to_admins(by_admin: bool) -> Iterator[None]:
    """Rule: who holds an e-mail or an employee id is told to admins only; others get ``IdentifierRefused``.

    Wraps the whole decision and commit, so a collision the database's unique keys find in a race is
    refused the same way as one the read model answered."""
    try:
        yield
    except (EmailTaken, EmployeeTaken):
        if by_admin:
            raise
        raise IdentifierRefused() from None


def require_email_free(email: str, owner: str | None, participant_id: str) -> None:
    """Rule: one participant per email (``owner``: who holds it now, as the read model says)."""
    if owner not in (None, participant_id):
        raise EmailTaken(f"email {email} already belongs to another participant")


def require_employee_free(employee_id: str, owner: str | None, participant_id: str) -> None:
    """Rule: one participant per employee id."""
    if owner not in (None, participant_id):
        raise EmployeeTaken(f"employee {employee_id} is already participant {owner}")


@dataclass
class Participant(Aggregate):
    id_field = "participant_id"
    participant_id: str
    version: int = 0
    roles: set[str] = field(default_factory=set)
    fields: dict[str, JsonValue] = field(default_factory=dict)
    capacity: int | None = None
    registered_training: str = "untrained"
    training: dict[str, date] = field(default_factory=dict)
    active: bool = True
    inactive_reason: str | None = None
    erased: bool = False

    @property
    def training_status(self) -> str:
        if "workshop" in self.training:
            return "workshop_completed"
        if "handbook" in self.training:
            return "handbook_completed"
        return self.registered_training

    def section(self, name: str) -> dict[str, JsonValue]:
        return self.sections().get(name, {})

    def sections(self) -> dict[str, dict[str, JsonValue]]:
        """``section`` of every section at once, in one pass over the fields (the read model writes three of a
        participant's: bench/hr_import.py --profile)."""
        found: dict[str, dict[str, JsonValue]] = {}
        for path, value in self.fields.items():
            head, dot, rest = path.partition(".")
            if dot:
                found.setdefault(head, {})[rest] = value
        return found

    # --- commands -----------------------------------------------------------------

    def erase(self) -> list[Event]:
        """Right to erasure; erasing twice decides nothing."""
        return [] if self.erased else [ParticipantErased(participant_id=self.participant_id)]

    def register(self, registration: MentorRegistered | MenteeRegistered) -> list[Event]:
        """As a mentor or a mentee (the registration says which), onto a new or an HR-created person record."""
        self._check_registration(registration, "mentor" if isinstance(registration, MentorRegistered) else "mentee")
        return [registration]

    def edit(self, changes: dict[str, JsonValue], source: EditSource) -> list[Event]:
        """Only fields whose value differs become changes; an edit that changes nothing decides nothing."""
        self._require_not_erased()
        if source != "hr_feed" and not self.roles:
            raise ParticipantRuleViolation(f"participant {self.participant_id} has not registered as mentor or mentee")
        for path in changes:
            if path not in EDITABLE or (path in HR_ONLY and source != "hr_feed"):
                raise InvalidChange(path, "is not an editable field")
        if source != "hr_feed" and "mentor" not in self.roles and any(p in AVAILABILITY_FIELDS for p in changes):
            raise InvalidChange("availability", "only mentors have an availability")
        changes = self._with_consent_rules(changes)
        diff = [
            {"field": path, "old": self.fields.get(path), "new": new}
            for path, new in changes.items()
            if self.fields.get(path) != new
        ]
        if not diff:
            return []
        # one validation for the event and its changes, not one per change (bench/hr_import.py: six per imported row)
        update = {"participant_id": self.participant_id, "changes": diff, "source": source}
        return [ProfileUpdated.model_validate(update)]

    def change_capacity(self, new_capacity: int) -> list[Event]:
        self._require_mentor("change capacity")
        if new_capacity == self.capacity:
            return []
        return [
            MentorCapacityChanged(
                participant_id=self.participant_id, old_capacity=self.capacity or 0, new_capacity=new_capacity
            )
        ]

    def complete_training(self, kind: Literal["workshop", "handbook"], completed_on: date, today: date) -> list[Event]:
        self._require_mentor("record training")
        if completed_on > today:
            raise InvalidChange("completed_on", "lies in the future")
        if self.training.get(kind) == completed_on:
            return []
        return [MentorTrainingCompleted(participant_id=self.participant_id, kind=kind, completed_on=completed_on)]

    def follow_employment(self, status: EmploymentStatus, effective_date: date) -> list[Event]:
        """Leave pauses, termination deactivates, a return (or a rescinded termination) resumes.

        A deactivation by an admin is not lifted by HR.
        """
        self._require_not_erased()
        if status == "active":
            if self.active or self.inactive_reason not in _HR_DEACTIVATION.values():
                return []
            return [ParticipantReactivated(participant_id=self.participant_id, effective_date=effective_date)]
        reason = _HR_DEACTIVATION[status]
        if not self.active and self.inactive_reason == reason:
            return []
        return [
            ParticipantDeactivated(participant_id=self.participant_id, reason=reason, effective_date=effective_date)
        ]

    # --- evolution ----------------------------------------------------------------

    def evolve(self, event: Event, at: datetime) -> None:
        if self.erased:
            return
        if isinstance(event, (MentorRegistered, MenteeRegistered)):
            self._apply_registration(event)
        elif isinstance(event, ProfileUpdated):
            for change in event.changes:
                self.fields[change.field] = change.new
        elif isinstance(event, MentorCapacityChanged):
            self.capacity = event.new_capacity
        elif isinstance(event, MentorTrainingCompleted):
            self.training[event.kind] = event.completed_on
        elif isinstance(event, ParticipantDeactivated):
            self.active, self.inactive_reason = False, event.reason
        elif isinstance(event, ParticipantReactivated):
            self.active, self.inactive_reason = True, None
        elif isinstance(event, ParticipantErased):
            self.erased, self.active, self.inactive_reason = True, False, "erased"
            self.fields, self.training = {}, {}

    def _apply_registration(self, event: MentorRegistered | MenteeRegistered) -> None:
        role = "mentor" if isinstance(event, MentorRegistered) else "mentee"
        self.roles.add(role)
        self.fields.update(name=event.name, email=event.email, priority_group=event.priority_group)
        if event.employee_id is not None:
            self.fields["employee_id"] = event.employee_id
        self.fields.update(_flatten("profile", event.profile.model_dump(mode="json")))
        demographics = event.demographics or Demographics(consented=False)
        self.fields.update(_flatten("demographics", demographics.model_dump(mode="json")))
        if isinstance(event, MentorRegistered):
            self.capacity = event.capacity
            self.registered_training = event.training_status
            self.fields.update(_flatten("availability", event.availability.model_dump(mode="json")))

    # --- rules --------------------------------------------------------------------

    def _require_not_erased(self) -> None:
        if self.erased:
            raise ParticipantRuleViolation(f"participant {self.participant_id} was erased")

    def _check_registration(self, registration: MentorRegistered | MenteeRegistered, role: str) -> None:
        self._require_not_erased()
        if role in self.roles:
            raise ParticipantRuleViolation(f"participant {self.participant_id} is already registered as a {role}")
        known = self.fields.get("employee_id")
        if known is not None and registration.employee_id not in (None, known):
            raise ParticipantRuleViolation(
                f"participant {self.participant_id} is employee {known}, not {registration.employee_id}"
            )

    def _require_mentor(self, action: str) -> None:
        self._require_not_erased()
        if "mentor" not in self.roles:
            raise ParticipantRuleViolation(f"participant {self.participant_id} is not a mentor and cannot {action}")

    def _with_consent_rules(self, changes: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """Withdrawing consent clears the answers; answers without consent are refused."""
        consented = changes.get(CONSENT, self.fields.get(CONSENT, False))
        if consented:
            return changes
        if any(changes.get(path) is not None for path in DEMOGRAPHIC_ANSWERS):
            raise InvalidChange("demographics", "answers may only be given with consent (demographics.consented)")
        if CONSENT in changes:
            return {**changes, **{path: None for path in DEMOGRAPHIC_ANSWERS if self.fields.get(path) is not None}}
        return changes


def _flatten(prefix: str, values: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {f"{prefix}.{name}": value for name, value in values.items()}
