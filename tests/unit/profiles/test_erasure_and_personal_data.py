"""Erasure in the aggregate (sealing personal fields is the shared codec's: tests/unit/test_sealing.py)."""

from __future__ import annotations

from datetime import date

import pytest

from services.profiles.domain.participant import ParticipantRuleViolation
from shared.events.profiles import (
    Demographics,
    MentorRegistered,
    ParticipantErased,
    ProfileFields,
)
from tests.unit.profiles.fakes import AT, rebuilt

pytestmark = pytest.mark.unit


PROFILE = ProfileFields(biography="Grew up in Lagos", specialty="oncology", career_stage="senior")


def registration(**extra) -> MentorRegistered:
    return MentorRegistered(
        participant_id="p1",
        name="Ada",
        email="ada@example.edu",
        profile=PROFILE,
        capacity=2,
        demographics=Demographics(consented=True, gender="woman"),
        **extra,
    )


def test_erasure_is_one_event_and_leaves_nothing_to_edit() -> None:
    participant = rebuilt("p1", [registration()])
    [event] = participant.erase()
    assert event == ParticipantErased(participant_id="p1")
    participant.apply(event, AT)
    assert participant.erased and not participant.active and participant.fields == {}
    assert participant.erase() == []
    for command in (
        lambda: participant.edit({"name": "B"}, "admin"),
        lambda: participant.change_capacity(3),
        lambda: participant.register(registration()),
        lambda: participant.follow_employment("terminated", date(2025, 1, 1)),
    ):
        with pytest.raises(ParticipantRuleViolation, match="erased"):
            command()
