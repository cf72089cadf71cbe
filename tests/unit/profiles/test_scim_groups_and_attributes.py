"""SCIM rules without a server: the password dropped, attribute selection, the immutable employee number kept,
groups as departments (membership changes are user writes)."""

from __future__ import annotations

import pytest

from services.profiles.application import provision_scim_group, provision_scim_user
from services.profiles.application.commands import (
    CreateScimGroup,
    CreateScimUser,
    DeleteScimGroup,
    PatchScimGroup,
    ReplaceScimUser,
)
from services.profiles.domain import scim
from services.profiles.domain.scim import ENTERPRISE, GROUP, PATCH_OP, USER, ScimProblem
from tests.unit.profiles.fakes import world
from tests.unit.profiles.test_use_cases_scim import user

pytestmark = pytest.mark.unit


def test_a_password_is_dropped_however_it_is_spelt() -> None:
    body = user(password="a", PassWord="b", **{f"{USER}:password": "c"})
    assert not [k for k in scim.clean(body) if "password" in k.lower()]
    assert scim.project({"id": "1", "password": "x", "userName": "u"}, ["password", "userName"], []) == {
        "id": "1",
        "userName": "u",
    }


RESOURCE = {
    "schemas": [USER, ENTERPRISE],
    "id": "u1",
    "userName": "ada",
    "name": {"givenName": "Ada", "familyName": "Okafor"},
    "emails": [{"value": "a@x.edu", "type": "work"}],
    ENTERPRISE: {"employeeNumber": "E1", "department": "Cardiology"},
}


@pytest.mark.parametrize(
    ("attributes", "excluded", "expected"),
    [
        (["USERNAME"], [], {"schemas": [USER, ENTERPRISE], "id": "u1", "userName": "ada"}),
        (["name.familyName"], [], {"schemas": [USER, ENTERPRISE], "id": "u1", "name": {"familyName": "Okafor"}}),
        (["emails.value"], [], {"schemas": [USER, ENTERPRISE], "id": "u1", "emails": [{"value": "a@x.edu"}]}),
        (
            [f"{ENTERPRISE}:department"],
            [],
            {"schemas": [USER, ENTERPRISE], "id": "u1", ENTERPRISE: {"department": "Cardiology"}},
        ),
        ([f"{USER}:userName"], [], {"schemas": [USER, ENTERPRISE], "id": "u1", "userName": "ada"}),
        (
            [],
            ["name", "emails", ENTERPRISE, "id", "schemas"],
            {"schemas": [USER, ENTERPRISE], "id": "u1", "userName": "ada"},
        ),
        (
            [],
            [f"{ENTERPRISE}:employeeNumber", "name.givenName"],
            {
                **RESOURCE,
                "name": {"familyName": "Okafor"},
                ENTERPRISE: {"department": "Cardiology"},
            },
        ),
        (["nothing"], [], {"schemas": [USER, ENTERPRISE], "id": "u1"}),
    ],
)
def test_attribute_selection(attributes, excluded, expected) -> None:
    assert scim.project(RESOURCE, attributes, excluded) == expected
    assert RESOURCE[ENTERPRISE] == {"employeeNumber": "E1", "department": "Cardiology"}  # untouched


async def test_a_replace_without_the_employee_number_keeps_it_and_another_is_refused() -> None:
    w = world()
    row = await provision_scim_user.create(w.ports, CreateScimUser(user()))
    kept = await provision_scim_user.replace(
        w.ports, ReplaceScimUser(row["user_id"], user(title="Chair", **{ENTERPRISE: {"department": "Oncology"}}))
    )
    assert kept["employee_id"] == "E700" and kept["resource"][ENTERPRISE]["employeeNumber"] == "E700"
    with pytest.raises(ScimProblem) as refused:
        await provision_scim_user.replace(
            w.ports, ReplaceScimUser(row["user_id"], user(**{ENTERPRISE: {"employeeNumber": "E9"}}))
        )
    assert (refused.value.status, refused.value.scim_type) == (400, "mutability")


def other(number: str, name: str) -> dict:
    return user(
        userName=f"{name}@example.edu",
        emails=[{"value": f"{name}@example.edu"}],
        **{ENTERPRISE: {"employeeNumber": number}},
    )


def department_of(w, employee_id: str) -> str:
    """The department of the employee's latest HR fact, the one the participant follows."""
    facts = [(arrival, fact) for fact, arrival in w.hr.facts.values() if fact.employee_id == employee_id]
    return max(facts, key=lambda pair: pair[0])[1].worker.department_name


async def test_group_membership_moves_people_between_departments() -> None:
    w = world()
    ada = (await provision_scim_user.create(w.ports, CreateScimUser(user())))["user_id"]
    bo = (await provision_scim_user.create(w.ports, CreateScimUser(other("E701", "bo"))))["user_id"]
    oncology = await provision_scim_group.create(
        w.ports, CreateScimGroup({"schemas": [GROUP], "displayName": "Oncology", "members": [{"value": ada}]})
    )
    assert oncology["members"] == [ada] and department_of(w, "E700") == "Oncology"
    surgery = await provision_scim_group.create(
        w.ports,
        CreateScimGroup({"schemas": [GROUP], "displayName": "Surgery", "members": [{"value": ada}, {"value": bo}]}),
    )
    assert sorted(surgery["members"]) == sorted([ada, bo])  # ada left oncology: one department at a time
    assert await w.groups.members(None, "Oncology") == []
    patched = await provision_scim_group.patch(
        w.ports,
        PatchScimGroup(
            surgery["group_id"],
            {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": f'members[value eq "{bo}"]'}]},
        ),
    )
    assert patched["members"] == [ada] and department_of(w, "E701") == "unspecified"
    await provision_scim_group.delete(w.ports, DeleteScimGroup(surgery["group_id"]))
    assert department_of(w, "E700") == "unspecified" and surgery["group_id"] not in w.groups.groups


async def test_a_group_naming_an_unknown_user_changes_nothing() -> None:
    w = world()
    ada = (await provision_scim_user.create(w.ports, CreateScimUser(user())))["user_id"]
    facts = len(w.hr.facts)
    with pytest.raises(ScimProblem, match="no user ghost"):
        await provision_scim_group.create(
            w.ports,
            CreateScimGroup({"schemas": [GROUP], "displayName": "X", "members": [{"value": ada}, {"value": "ghost"}]}),
        )
    assert w.groups.groups == {} and len(w.hr.facts) == facts
    assert w.scim.users[ada]["resource"][ENTERPRISE]["department"] == "Cardiology"


@pytest.mark.parametrize(
    "body",
    [
        {"displayName": "X"},
        {"schemas": [GROUP]},
        {"schemas": [GROUP], "displayName": " "},
        {"schemas": [GROUP], "displayName": "X", "members": "u1"},
        {"schemas": [GROUP], "displayName": "X", "members": [{"value": "g1", "type": "Group"}]},
    ],
)
def test_a_malformed_group_is_refused(body) -> None:
    with pytest.raises(ScimProblem) as refused:
        scim.clean_group(body)
    assert refused.value.status == 400
