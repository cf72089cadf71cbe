"""SCIM provisioning against in-memory ports: each write is an HR fact the participant follows."""

from __future__ import annotations

import pytest

from services.profiles.application import provision_scim_user, register
from services.profiles.application.commands import (
    CreateScimUser,
    DeleteScimUser,
    PatchScimUser,
    Register,
    ReplaceScimUser,
)
from services.profiles.domain.scim import ENTERPRISE, PATCH_OP, USER, ScimProblem
from tests.unit.profiles.fakes import NOW, mentor, world

pytestmark = pytest.mark.unit


def user(**overrides) -> dict:
    body = {
        "schemas": [USER, ENTERPRISE],
        "userName": "ada@example.edu",
        "displayName": "Ada Okafor",
        "emails": [{"value": "ada@example.edu", "type": "work", "primary": True}],
        ENTERPRISE: {"employeeNumber": "E700", "department": "Cardiology"},
    }
    return {**body, **overrides}


def rename(to: str) -> dict:
    return {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": to}]}


async def test_a_created_user_is_stored_and_becomes_a_participant() -> None:
    w = world()
    row = await provision_scim_user.create(w.ports, CreateScimUser(user()))
    assert (row["version"], row["employee_id"], row["created_at"]) == (1, "E700", NOW)
    assert w.read_model.rows["E700"]["name"] == "Ada Okafor" and w.events("E700") == ["ProfileUpdated"]
    [(fact, _)] = w.hr.facts.values()
    assert fact.type_name() == "WorkerUpdated" and fact.changed_fields == ["scim"]


async def test_a_user_name_or_employee_provisioned_twice_is_a_uniqueness_problem() -> None:
    w = world()
    await provision_scim_user.create(w.ports, CreateScimUser(user()))
    with pytest.raises(ScimProblem, match=r"userName 'ADA@example\.edu' is taken") as taken:
        await provision_scim_user.create(w.ports, CreateScimUser(user(userName="ADA@example.edu")))
    assert (taken.value.status, taken.value.scim_type) == (409, "uniqueness")
    with pytest.raises(ScimProblem, match="employee E700 is already provisioned"):
        await provision_scim_user.create(w.ports, CreateScimUser(user(userName="other@example.edu")))
    assert len(w.scim.users) == 1 and len(w.hr.facts) == 1


async def test_an_email_of_another_employee_is_refused_and_nothing_is_kept() -> None:
    w = world()
    await register.handle(w.ports, Register(mentor("p1", email="ada@example.edu", employee_id="E1")))
    with pytest.raises(ScimProblem, match="belongs to employee E1") as refused:
        await provision_scim_user.create(w.ports, CreateScimUser(user()))
    assert refused.value.status == 409 and w.scim.users == {} and w.hr.facts == {}


async def test_replace_and_patch_move_the_version_and_a_stale_one_is_a_precondition_failure() -> None:
    w = world()
    user_id = (await provision_scim_user.create(w.ports, CreateScimUser(user())))["user_id"]
    patched = await provision_scim_user.patch(w.ports, PatchScimUser(user_id, rename("Ada O."), expected_version=1))
    assert patched["version"] == 2 and w.read_model.rows["E700"]["name"] == "Ada O."
    with pytest.raises(ScimProblem, match="at version 2, not 1") as stale:
        await provision_scim_user.replace(w.ports, ReplaceScimUser(user_id, user(), expected_version=1))
    assert stale.value.status == 412
    replaced = await provision_scim_user.replace(w.ports, ReplaceScimUser(user_id, user()))
    assert replaced["version"] == 3 and w.read_model.rows["E700"]["name"] == "Ada Okafor"


async def test_the_employee_number_cannot_change() -> None:
    w = world()
    user_id = (await provision_scim_user.create(w.ports, CreateScimUser(user())))["user_id"]
    moved = user(**{ENTERPRISE: {"employeeNumber": "E701"}})
    with pytest.raises(ScimProblem, match="cannot change") as refused:
        await provision_scim_user.replace(w.ports, ReplaceScimUser(user_id, moved))
    assert (refused.value.status, refused.value.scim_type) == (400, "mutability")


async def test_delete_deactivates_the_participant_and_forgets_the_user() -> None:
    w = world()
    user_id = (await provision_scim_user.create(w.ports, CreateScimUser(user())))["user_id"]
    await provision_scim_user.delete(w.ports, DeleteScimUser(user_id))
    assert w.scim.users == {} and w.read_model.rows["E700"]["active"] is False
    assert w.events("E700")[-1] == "ParticipantDeactivated"
    with pytest.raises(ScimProblem, match=f"no user {user_id}") as gone:
        await provision_scim_user.delete(w.ports, DeleteScimUser(user_id))
    assert gone.value.status == 404
