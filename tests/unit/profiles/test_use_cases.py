"""Profiles' participant use cases against in-memory ports: what they record, what they refuse, what they undo."""

from __future__ import annotations

from datetime import date

import pytest

from services.profiles.application import (
    change_capacity,
    complete_training,
    edit_profile,
    erase_participant,
    register,
)
from services.profiles.application.commands import (
    ChangeCapacity,
    CompleteTraining,
    EditProfile,
    EraseParticipant,
    Register,
)
from services.profiles.domain.participant import (
    EmailTaken,
    EmployeeTaken,
    IdentifierRefused,
    InvalidChange,
    ParticipantNotFound,
    ParticipantRuleViolation,
)
from shared.errors import ConcurrencyConflict
from tests.unit.profiles.fakes import mentee, mentor, world

pytestmark = pytest.mark.unit


async def registered(w, *registrations) -> None:
    for registration in registrations:
        await register.handle(w.ports, Register(registration))


async def test_a_registration_is_recorded_and_its_read_model_row_written() -> None:
    w = world()
    assert await register.handle(w.ports, Register(mentor())) == 1
    assert w.events("p1") == ["MentorRegistered"]
    assert w.read_model.rows["p1"]["roles"] == ["mentor"] and w.read_model.rows["p1"]["version"] == 1
    assert await register.handle(w.ports, Register(mentee("p1", email="ada@example.edu"))) == 2  # a mentee too
    assert w.read_model.rows["p1"]["roles"] == ["mentee", "mentor"]


async def test_registering_twice_in_a_role_is_refused() -> None:
    w = world()
    await registered(w, mentor())
    with pytest.raises(ParticipantRuleViolation, match="already registered as a mentor"):
        await register.handle(w.ports, Register(mentor()))
    assert w.events() == ["MentorRegistered"]


async def test_an_email_of_someone_else_is_refused_and_nothing_is_recorded() -> None:
    w = world()
    await registered(w, mentor())
    with pytest.raises(EmailTaken, match=r"ADA@example\.edu already belongs to another participant"):
        await register.handle(w.ports, Register(mentee("p2", email="ADA@example.edu"), by_admin=True))
    assert w.events("p2") == [] and "p2" not in w.read_model.rows


async def test_who_holds_an_email_or_employee_id_is_told_only_to_admins() -> None:
    w = world()
    await registered(w, mentor(employee_id="E1"))
    for taken in (mentee("p2", email="ADA@example.edu"), mentee("p2", employee_id="E1")):
        with pytest.raises(IdentifierRefused) as refused:
            await register.handle(w.ports, Register(taken))
        assert "p1" not in str(refused.value) and "belongs" not in str(refused.value)
        assert "E1" not in str(refused.value) and "ada@" not in str(refused.value).lower()
    await registered(w, mentee("p2", email="bo@example.edu"))
    with pytest.raises(IdentifierRefused):
        await edit_profile.handle(w.ports, EditProfile("p2", {"email": "ada@example.edu"}, "participant"))
    assert w.events("p2") == ["MenteeRegistered"]


async def test_an_employee_id_of_someone_else_is_refused() -> None:
    w = world()
    await registered(w, mentor(employee_id="E1"))
    with pytest.raises(EmployeeTaken, match="employee E1 is already participant p1"):
        await register.handle(w.ports, Register(mentee("p2", employee_id="E1"), by_admin=True))
    assert w.events("p2") == []


async def test_a_row_the_read_model_refuses_rolls_the_events_back() -> None:
    """The unique key is the last word on a race: the hook raising undoes the append too."""
    w = world()
    await registered(w, mentor())

    async def nobody(conn, email):  # the rule's facts missed the other registration (it won a race)
        return None

    w.read_model.owner_of_email = nobody
    with pytest.raises(EmailTaken, match=r"email ada@example\.edu is already registered"):
        await register.handle(w.ports, Register(mentee("p2", email="ada@example.edu"), by_admin=True))
    with pytest.raises(IdentifierRefused):  # the same race, told to the participant without the owner
        await register.handle(w.ports, Register(mentee("p2", email="ada@example.edu")))
    assert w.events("p2") == [] and set(w.read_model.rows) == {"p1"}


async def test_an_edit_records_only_what_changed() -> None:
    w = world()
    await registered(w, mentor())
    version, changed = await edit_profile.handle(
        w.ports, EditProfile("p1", {"profile.location": "Oslo", "name": "Ada"}, "participant")
    )
    assert (version, changed) == (2, ["profile.location"])
    assert await edit_profile.handle(w.ports, EditProfile("p1", {"name": "Ada"}, "participant")) == (2, [])
    assert w.events("p1") == ["MentorRegistered", "ProfileUpdated"]


async def test_an_edit_at_a_stale_version_conflicts_and_an_unknown_participant_is_not_found() -> None:
    w = world()
    await registered(w, mentor())
    with pytest.raises(ConcurrencyConflict):
        await edit_profile.handle(w.ports, EditProfile("p1", {"name": "B"}, "participant", expected_version=3))
    with pytest.raises(ParticipantNotFound, match="no participant nobody"):
        await edit_profile.handle(w.ports, EditProfile("nobody", {"name": "B"}, "admin"))
    assert w.events() == ["MentorRegistered"]


async def test_an_edit_names_the_field_it_refuses_and_an_email_taken_rolls_back() -> None:
    w = world()
    await registered(w, mentor(), mentee())
    with pytest.raises(InvalidChange) as refused:
        await edit_profile.handle(w.ports, EditProfile("p1", {"employee_id": "E9"}, "admin"))
    assert refused.value.field == "employee_id"
    with pytest.raises(EmailTaken):
        await edit_profile.handle(w.ports, EditProfile("p2", {"email": "ada@example.edu"}, "admin", by_admin=True))
    assert w.events("p2") == ["MenteeRegistered"] and w.read_model.rows["p2"]["email"] == "bo@example.edu"


async def test_capacity_changes_for_mentors_only() -> None:
    w = world()
    await registered(w, mentor(), mentee())
    assert await change_capacity.handle(w.ports, ChangeCapacity("p1", 4, expected_version=1)) == 2
    assert await change_capacity.handle(w.ports, ChangeCapacity("p1", 4)) == 2  # the same capacity decides nothing
    with pytest.raises(ParticipantRuleViolation, match="not a mentor"):
        await change_capacity.handle(w.ports, ChangeCapacity("p2", 1))
    [event] = w.store.events("p1")[1:]
    assert (event.type_name(), event.old_capacity, event.new_capacity) == ("MentorCapacityChanged", 2, 4)


async def test_training_is_dated_by_the_clock() -> None:
    w = world()
    await registered(w, mentor())
    with pytest.raises(InvalidChange) as refused:
        await complete_training.handle(w.ports, CompleteTraining("p1", "workshop", date(2025, 3, 2)))
    assert refused.value.field == "completed_on"
    assert await complete_training.handle(w.ports, CompleteTraining("p1", "workshop", date(2025, 3, 1))) == 2
    assert w.events("p1")[-1] == "MentorTrainingCompleted"


async def test_erasure_records_the_event_forgets_the_row_shreds_the_key_once() -> None:
    w = world()
    await registered(w, mentor())
    assert await erase_participant.handle(w.ports, EraseParticipant("p1")) is True
    assert w.events("p1") == ["MentorRegistered", "ParticipantErased"]
    assert "p1" not in w.read_model.rows and w.read_model.erased == {"p1"} and w.keys.shredded == {"p1"}
    assert await erase_participant.handle(w.ports, EraseParticipant("p1")) is False
    assert len(w.events("p1")) == 2
    with pytest.raises(ParticipantNotFound):
        await erase_participant.handle(w.ports, EraseParticipant("nobody"))


async def test_erasure_is_all_or_nothing() -> None:
    w = world()
    await registered(w, mentor())

    async def broken(conn, participant_id):
        raise RuntimeError("key store unreachable")

    w.keys.shred = broken
    with pytest.raises(RuntimeError):
        await erase_participant.handle(w.ports, EraseParticipant("p1"))
    assert w.events("p1") == ["MentorRegistered"] and "p1" in w.read_model.rows and w.read_model.erased == set()
