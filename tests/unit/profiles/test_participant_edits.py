"""Participant aggregate: field-level edits, consent, capacity, training, following employment."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.profiles.domain.participant import InvalidChange, Participant, ParticipantRuleViolation
from shared.events.profiles import (
    Demographics,
    MenteeRegistered,
    MentorRegistered,
    ParticipantDeactivated,
    ParticipantReactivated,
    ProfileFields,
    ProfileUpdated,
)
from tests.unit.profiles.fakes import AT, rebuilt

pytestmark = pytest.mark.unit


PROFILE = ProfileFields(biography="b", specialty="oncology", career_stage="senior", interests=["trials"])


def mentor(**extra) -> Participant:
    registration = MentorRegistered(
        participant_id="p1", name="P", email="p@example.edu", profile=PROFILE, capacity=2, **extra
    )
    return rebuilt("p1", [registration])


def test_an_edit_carries_only_the_fields_that_differ() -> None:
    [event] = mentor().edit({"profile.specialty": "oncology", "profile.location": "Oslo"}, "participant")
    assert isinstance(event, ProfileUpdated)
    assert [(c.field, c.old, c.new) for c in event.changes] == [("profile.location", None, "Oslo")]


def test_an_edit_that_changes_nothing_decides_nothing() -> None:
    assert mentor().edit({"profile.interests": ["trials"], "name": "P"}, "participant") == []


def test_unknown_and_hr_only_fields_are_refused() -> None:
    with pytest.raises(InvalidChange, match=r"profile\.colour"):
        mentor().edit({"profile.colour": "red"}, "participant")
    with pytest.raises(InvalidChange, match="employee_id"):
        mentor().edit({"employee_id": "E1"}, "admin")


def test_a_mentee_has_no_availability() -> None:
    mentee = rebuilt("p1", [MenteeRegistered(participant_id="p1", name="P", email="p@example.edu", profile=PROFILE)])
    with pytest.raises(InvalidChange, match="availability"):
        mentee.edit({"availability.formats": ["phone"]}, "participant")


def test_an_unregistered_person_record_is_not_edited_by_its_participant() -> None:
    person = rebuilt(
        "E1",
        [
            ProfileUpdated(
                participant_id="E1",
                source="hr_feed",
                changes=[
                    {"field": "name", "old": None, "new": "G"},
                    {"field": "email", "old": None, "new": "g@example.edu"},
                ],
            )
        ],
    )
    with pytest.raises(ParticipantRuleViolation, match="has not registered"):
        person.edit({"profile.location": "x"}, "participant")


def test_answers_need_consent_and_withdrawal_clears_them() -> None:
    with pytest.raises(InvalidChange, match="consent"):
        mentor().edit({"demographics.gender": "woman"}, "participant")
    consenting = mentor(demographics=Demographics(consented=True, gender="woman"))
    [event] = consenting.edit({"demographics.consented": False}, "participant")
    assert {c.field: c.new for c in event.changes} == {"demographics.consented": False, "demographics.gender": None}


def test_capacity_changes_only_when_it_changes() -> None:
    assert mentor().change_capacity(2) == []
    [event] = mentor().change_capacity(0)
    assert (event.old_capacity, event.new_capacity) == (2, 0)


def test_training_is_dated_and_not_in_the_future() -> None:
    m = mentor()
    today = date(2025, 3, 1)
    with pytest.raises(InvalidChange, match="completed_on"):
        m.complete_training("workshop", date(2025, 3, 2), today)
    m.apply_all(m.complete_training("handbook", date(2025, 1, 1), today), AT)
    assert m.training_status == "handbook_completed"
    assert m.complete_training("handbook", date(2025, 1, 1), today) == []
    m.apply_all(m.complete_training("workshop", date(2025, 2, 1), today), AT)
    assert m.training_status == "workshop_completed"


def test_employment_pauses_deactivates_and_resumes() -> None:
    m = mentor()
    assert m.follow_employment("active", date(2025, 1, 1)) == []
    [leave] = m.follow_employment("leave", date(2025, 1, 1))
    assert isinstance(leave, ParticipantDeactivated) and leave.reason == "on_leave"
    m.apply(leave, AT)
    assert m.follow_employment("leave", date(2025, 1, 2)) == []
    [left] = m.follow_employment("terminated", date(2025, 2, 1))
    assert left.reason == "left_institution"
    [back] = m.follow_employment("active", date(2025, 3, 1))
    assert isinstance(back, ParticipantReactivated)


def test_hr_does_not_lift_an_admin_deactivation() -> None:
    m = mentor()
    m.apply(ParticipantDeactivated(participant_id="p1", reason="admin", effective_date=date(2025, 1, 1)), AT)
    assert m.follow_employment("active", date(2025, 2, 1)) == []


text = st.text(max_size=20)
edits = st.dictionaries(
    st.sampled_from(
        ["name", "profile.biography", "profile.location", "profile.department", "availability.hours_per_month"]
    ),
    st.one_of(st.none(), text, st.integers(0, 40)),
    max_size=5,
).filter(lambda d: d.get("name") is not None if "name" in d else True)


@given(edits)
def test_applying_an_edit_reaches_the_target_and_repeating_it_changes_nothing(changes) -> None:
    m = mentor()
    events = m.edit(changes, "participant")
    m.apply_all(events, AT)
    assert all(m.fields.get(path) == value for path, value in changes.items())
    assert m.edit(changes, "participant") == []
    assert all(c.old != c.new for e in events for c in e.changes)
