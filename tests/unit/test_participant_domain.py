"""Profiles' participant aggregate, without any server."""

from __future__ import annotations

import pytest

from services.profiles.domain.participant import Participant, ParticipantRuleViolation
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields

pytestmark = pytest.mark.unit

PROFILE = ProfileFields(biography="b", specialty="oncology", career_stage="senior")


def registration(cls=MentorRegistered, **extra):
    return cls(participant_id="p1", name="P One", email="p1@example.edu", profile=PROFILE, **extra)


def test_a_new_participant_registers_as_mentor() -> None:
    assert Participant("p1").register_mentor(registration(capacity=2)) == [registration(capacity=2)]


def test_a_mentee_may_also_become_a_mentor() -> None:
    participant = Participant.from_events("p1", [registration(MenteeRegistered)])
    assert participant.version == 1 and participant.roles == {"mentee"}
    assert participant.register_mentor(registration(capacity=1))


def test_registering_twice_as_mentor_is_refused() -> None:
    participant = Participant.from_events("p1", [registration(capacity=2)])
    with pytest.raises(ParticipantRuleViolation, match="already registered as a mentor"):
        participant.register_mentor(registration(capacity=3))
