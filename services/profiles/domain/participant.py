"""Participant aggregate: decides from commands, evolves from its events.  No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.events import Event
from shared.events.profiles import MenteeRegistered, MentorRegistered


class ParticipantRuleViolation(Exception):
    """A command the participant's current state does not allow."""


@dataclass
class Participant:
    participant_id: str
    version: int = 0
    roles: set[str] = field(default_factory=set)

    @classmethod
    def from_events(cls, participant_id: str, events: list[Event]) -> Participant:
        participant = cls(participant_id)
        for event in events:
            participant.apply(event)
        return participant

    def apply(self, event: Event) -> None:
        self.version += 1
        if isinstance(event, MentorRegistered):
            self.roles.add("mentor")
        elif isinstance(event, MenteeRegistered):
            self.roles.add("mentee")

    def register_mentor(self, registration: MentorRegistered) -> list[Event]:
        if "mentor" in self.roles:
            raise ParticipantRuleViolation(f"participant {self.participant_id} is already registered as a mentor")
        return [registration]
