"""Erasure in the aggregate, and sealing personal fields: opened with the key, placeholders without it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.profiles.domain.participant import ParticipantRuleViolation
from services.profiles.domain.personal_data import ERASED_EMAIL, ERASED_NAME, is_sealed, open_payload, seal_payload
from shared.events import decode
from shared.events.profiles import (
    Demographics,
    MentorRegistered,
    ParticipantErased,
    ProfileFields,
    ProfileUpdated,
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


def fake_seal(value) -> str:
    return "sealed:" + json.dumps(value)


def fake_open(token: str):
    return json.loads(token.removeprefix("sealed:"))


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


def test_a_sealed_registration_opens_to_itself_and_to_placeholders_once_shredded() -> None:
    data = registration().model_dump(mode="json")
    sealed = seal_payload("MentorRegistered", data, fake_seal)
    assert is_sealed(sealed) and "Ada" not in json.dumps({k: v for k, v in sealed.items() if k != "name"})
    assert sealed["profile"]["specialty"] == "oncology"  # not personal: stays readable
    assert open_payload("MentorRegistered", sealed, fake_open) == data
    shredded = decode("MentorRegistered", open_payload("MentorRegistered", sealed, None), 1)
    assert (shredded.name, shredded.email, shredded.profile.biography) == (ERASED_NAME, ERASED_EMAIL, "[erased]")
    assert shredded.demographics == Demographics(consented=False) and shredded.capacity == 2


@given(st.text(max_size=50), st.text(max_size=50))
def test_personal_changes_in_an_update_are_sealed_and_others_are_not(old: str, new: str) -> None:
    update = ProfileUpdated(
        participant_id="p1",
        changes=[
            {"field": "name", "old": old, "new": new},
            {"field": "profile.location", "old": None, "new": "Oslo"},
        ],
    ).model_dump(mode="json")
    sealed = seal_payload("ProfileUpdated", update, fake_seal)
    assert sealed["changes"][1] == update["changes"][1]
    assert open_payload("ProfileUpdated", sealed, fake_open) == update
    shredded = open_payload("ProfileUpdated", sealed, None)
    assert shredded["changes"][0] == {"field": "name", "old": ERASED_NAME, "new": ERASED_NAME}
    decode("ProfileUpdated", shredded, 1)


def test_events_without_personal_data_pass_unchanged() -> None:
    data = {"participant_id": "p1", "old_capacity": 1, "new_capacity": 2}
    assert seal_payload("MentorCapacityChanged", data, fake_seal) == data
