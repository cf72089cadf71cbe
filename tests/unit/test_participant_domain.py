"""Profiles' participant aggregate, without any server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.profiles.domain.participant import Participant, ParticipantRuleViolation
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields

pytestmark = pytest.mark.unit

AT = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


def rebuilt(participant_id: str, events: list) -> Participant:
    """The participant as the repository rebuilds it from these recorded events."""
    return Participant.rebuild(participant_id, [(event, AT) for event in events])


PROFILE = ProfileFields(biography="b", specialty="oncology", career_stage="senior")


def registration(cls=MentorRegistered, **extra):
    return cls(participant_id="p1", name="P One", email="p1@example.edu", profile=PROFILE, **extra)


def test_a_new_participant_registers_as_mentor() -> None:
    assert Participant("p1").register(registration(capacity=2)) == [registration(capacity=2)]


def test_a_mentee_may_also_become_a_mentor() -> None:
    participant = rebuilt("p1", [registration(MenteeRegistered)])
    assert participant.version == 1 and participant.roles == {"mentee"}
    assert participant.register(registration(capacity=1))


def test_registering_twice_as_mentor_is_refused() -> None:
    participant = rebuilt("p1", [registration(capacity=2)])
    with pytest.raises(ParticipantRuleViolation, match="already registered as a mentor"):
        participant.register(registration(capacity=3))
