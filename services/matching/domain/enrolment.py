"""A participant's enrolment in a program: the ``Enrolment`` aggregate and who may enrol.  Pure.

One stream per (program, participant): ``enrolment_id``.  Enrolled → unenrolled → enrolled again is allowed;
enrolled twice is a 409.  Roles follow the program's model: mentors and mentees in one-to-one and group
programs, peers in peer programs.  Eligibility (departments, career stages, priority groups, HR attributes)
restricts the mentees and peers; mentors are enrolled by their own choice or the director's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from services.matching.domain.errors import InvalidCommand, MatchingRuleViolation, NotFound
from services.matching.domain.program import Eligibility, Program
from shared.aggregate import Aggregate
from shared.events import Event
from shared.events.matching import ParticipantEnrolled, ParticipantUnenrolled

Role = Literal["mentor", "mentee", "peer"]
_NAMESPACE = uuid.UUID("5a0c2d4e-8f61-4b3a-9d27-1e6f0b8c7a35")


def enrolment_id(program_id: str, participant_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{program_id}/{participant_id}"))


@dataclass(frozen=True)
class PersonFacts:
    """What matching knows of a person when they enrol (from profiles' and HR's events)."""

    participant_id: str
    is_mentor: bool = False
    is_mentee: bool = False
    active: bool = True
    department: str | None = None
    career_stage: str | None = None
    priority_group: str | None = None
    hr_attributes: Mapping[str, str] = field(default_factory=dict)


def roles_of(program: Program) -> tuple[Role, ...]:
    return ("peer",) if program.model == "peer" else ("mentor", "mentee")


def check_role(program: Program, person: PersonFacts, role: Role, capacity: int | None) -> None:
    if role not in roles_of(program):
        allowed = " or ".join(roles_of(program))
        raise InvalidCommand("role", f"a {program.model} program enrols {allowed}s")
    if capacity is not None and role != "mentor":
        raise InvalidCommand("capacity", "only a mentor has a capacity")
    if role == "mentor" and not person.is_mentor:
        raise InvalidCommand("participant_id", f"{person.participant_id} is not a registered mentor")
    if role in ("mentee", "peer") and not (person.is_mentee or (role == "peer" and person.is_mentor)):
        raise InvalidCommand("participant_id", f"{person.participant_id} is not a registered mentee")
    if not person.active:
        raise MatchingRuleViolation(f"{person.participant_id} is deactivated")


def check_eligible(eligibility: Eligibility, person: PersonFacts, role: Role) -> None:
    """Mentees and peers only; the first unmet rule is the answer, named ``eligibility.<rule>``."""
    if role == "mentor":
        return
    if eligibility.departments and person.department not in eligibility.departments:
        raise InvalidCommand("eligibility.departments", "the participant's department is not among the program's")
    if eligibility.career_stages and person.career_stage not in eligibility.career_stages:
        raise InvalidCommand("eligibility.career_stages", "the participant's career stage is not among the program's")
    if eligibility.priority_groups and person.priority_group not in eligibility.priority_groups:
        raise InvalidCommand("eligibility.priority_groups", "the participant is in none of the program's groups")
    for name, allowed in eligibility.hr_attributes.items():
        if allowed and person.hr_attributes.get(name) not in allowed:
            raise InvalidCommand(f"eligibility.hr_attributes.{name}", f"the participant's HR {name} is not allowed")


@dataclass
class Enrolment(Aggregate):
    id_field = "enrolment_id"

    enrolment_id: str
    version: int = 0
    program_id: str = ""
    participant_id: str = ""
    role: Role | None = None
    capacity: int | None = None
    enrolled: bool = False
    enrolled_at: datetime | None = None

    def enrol(self, program: Program, person: PersonFacts, role: Role, capacity: int | None, by: str) -> list[Event]:
        if self.enrolled:
            raise MatchingRuleViolation(
                f"{person.participant_id} is already enrolled in program {program.program_id} as {self.role}"
            )
        check_role(program, person, role, capacity)
        check_eligible(program.s.eligibility, person, role)
        return [
            ParticipantEnrolled(
                program_id=program.program_id,
                participant_id=person.participant_id,
                role=role,
                capacity=capacity,
                enrolled_by=by,
            )
        ]

    def unenrol(self, by: str) -> list[Event]:
        if not self.enrolled:
            raise NotFound(f"no enrolment of {self.participant_id or 'this participant'} in this program")
        return [ParticipantUnenrolled(program_id=self.program_id, participant_id=self.participant_id, by=by)]

    def evolve(self, event: Event, at: datetime) -> None:
        match event:
            case ParticipantEnrolled():
                self.program_id, self.participant_id, self.role = event.program_id, event.participant_id, event.role
                self.capacity, self.enrolled, self.enrolled_at = event.capacity, True, at
            case ParticipantUnenrolled():
                self.enrolled = False
