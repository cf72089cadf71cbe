"""A SCIM client conversation with /scim/v2/Users: create → get → filter → patch → put → deactivate → errors."""

from __future__ import annotations

import json

import pytest

from shared.auth import Role
from tests.integration.service_harness import auth

IDP = {**auth("okta", Role.hr_integration), "Content-Type": "application/scim+json"}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def user(**overrides) -> dict:
    body = {
        "schemas": [USER, ENTERPRISE],
        "userName": "ada@example.edu",
        "externalId": "okta-00u1",
        "name": {"givenName": "Ada", "familyName": "Okafor"},
        "displayName": "Ada Okafor",
        "emails": [{"value": "ada@example.edu", "type": "work", "primary": True}],
        "title": "Professor",
        "active": True,
        ENTERPRISE: {"employeeNumber": "E700", "department": "Cardiology", "manager": {"value": "E001"}},
    }
    return {**body, **overrides}


async def send(api, method: str, path: str, body: dict | None = None, **headers):
    content = None if body is None else json.dumps(body)
    return await api.request(method, f"/scim/v2{path}", content=content, headers={**IDP, **headers})


async def participant(pool, participant_id: str = "E700") -> dict:
    return dict(await pool.fetchrow("SELECT * FROM participants WHERE participant_id = $1", participant_id))


async def event_types(pool, participant_id: str = "E700") -> list[str]:
    rows = await pool.fetch("SELECT event_type FROM events WHERE stream_id = $1 ORDER BY version", participant_id)
    return [r["event_type"] for r in rows]


async def test_a_scim_client_conversation(api, profiles_pool) -> None:
    created = await send(api, "POST", "/Users", user())
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/scim+json"
    body = created.json()
    user_id = body["id"]
    assert body["meta"]["resourceType"] == "User" and body["meta"]["version"] == 'W/"1"'
    assert created.headers["Location"].endswith(f"/scim/v2/Users/{user_id}")
    person = await participant(profiles_pool)
    assert (person["name"], person["email"], person["profile"]["department"]) == (
        "Ada Okafor",
        "ada@example.edu",
        "Cardiology",
    )

    got = await send(api, "GET", f"/Users/{user_id}")
    assert got.json()["userName"] == "ada@example.edu" and got.json()[ENTERPRISE]["employeeNumber"] == "E700"

    found = (await send(api, "GET", '/Users?filter=userName eq "ADA@example.edu"')).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user_id
    by_external = (await send(api, "GET", '/Users?filter=externalId eq "okta-00u1"&startIndex=1&count=5')).json()
    assert [r["id"] for r in by_external["Resources"]] == [user_id]
    assert (await send(api, "GET", '/Users?filter=userName eq "nobody"')).json()["totalResults"] == 0

    patched = await send(
        api,
        "PATCH",
        f"/Users/{user_id}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Oncology"},
                {"op": "add", "path": "title", "value": "Chair"},
                {"op": "remove", "path": "displayName"},
            ],
        },
        **{"If-Match": 'W/"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()[ENTERPRISE]["department"] == "Oncology" and "displayName" not in patched.json()
    person = await participant(profiles_pool)
    assert person["profile"]["department"] == "Oncology" and person["name"] == "Ada Okafor"  # from name parts

    replaced = await send(api, "PUT", f"/Users/{user_id}", user(displayName="Dr. Ada Okafor"))
    assert replaced.json()["meta"]["version"] == 'W/"3"'
    assert (await participant(profiles_pool))["name"] == "Dr. Ada Okafor"

    off = await send(
        api,
        "PATCH",
        f"/Users/{user_id}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "Replace", "value": {"active": "False"}},  # as Azure AD sends it
            ],
        },
    )
    assert off.json()["active"] is False
    person = await participant(profiles_pool)
    assert not person["active"] and person["inactive_reason"] == "left_institution"
    assert event_types_ok(await event_types(profiles_pool))

    back = await send(
        api,
        "PATCH",
        f"/Users/{user_id}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": True}]},
    )
    assert back.json()["active"] is True and (await participant(profiles_pool))["active"]

    assert (await send(api, "DELETE", f"/Users/{user_id}")).status_code == 204
    assert not (await participant(profiles_pool))["active"]
    gone = await send(api, "GET", f"/Users/{user_id}")
    assert gone.status_code == 404 and gone.json()["schemas"] == [ERROR] and gone.json()["status"] == "404"


def event_types_ok(types: list[str]) -> bool:
    return types[0] == "ProfileUpdated" and types[-1] == "ParticipantDeactivated"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "scim_type", "words"),
    [
        ("POST", "/Users", {"userName": "x@example.edu"}, 400, "invalidSyntax", "schemas must include"),
        ("POST", "/Users", user(userName=""), 400, "invalidValue", "userName is required"),
        ("POST", "/Users", {**user(externalId=None), ENTERPRISE: {}}, 400, "invalidValue", "employeeNumber"),
        ("POST", "/Users", user(active="maybe"), 400, "invalidValue", "active must be a boolean"),
        ("POST", "/Users", user(emails=[{"value": "not-mail"}]), 400, "invalidValue", "work_email"),
        ("GET", '/Users?filter=title co "x"', None, 400, "invalidFilter", "unsupported filter"),
        ("GET", "/Users?count=ten", None, 400, "invalidValue", "count must be an integer"),
        ("GET", "/Users/nope", None, 404, None, "no user nope"),
        ("PUT", "/Users/nope", user(), 404, None, "no user nope"),
    ],
)
async def test_bad_requests_get_scim_errors(api, method, path, body, status, scim_type, words) -> None:
    response = await send(api, method, path, body)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["schemas"] == [ERROR] and error["status"] == str(status) and words in error["detail"]
    assert error.get("scimType") == scim_type
    assert response.headers["content-type"] == "application/scim+json"


async def test_conflicts_bad_patches_and_auth(api) -> None:
    user_id = (await send(api, "POST", "/Users", user())).json()["id"]
    taken = await send(api, "POST", "/Users", user(externalId="other", **{ENTERPRISE: {"employeeNumber": "E701"}}))
    assert taken.status_code == 409 and taken.json()["scimType"] == "uniqueness"
    same_employee = await send(api, "POST", "/Users", user(userName="b@example.edu"))
    assert same_employee.status_code == 409 and "E700" in same_employee.json()["detail"]
    email_of_other = await send(
        api,
        "POST",
        "/Users",
        user(userName="c@example.edu", externalId="c", **{ENTERPRISE: {"employeeNumber": "E702"}}),
    )
    assert email_of_other.status_code == 409 and "belongs to employee E700" in email_of_other.json()["detail"]

    stale = await send(
        api,
        "PATCH",
        f"/Users/{user_id}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]},
        **{"If-Match": 'W/"7"'},
    )
    assert stale.status_code == 412
    for operations, scim_type in (
        ([{"op": "move", "path": "title"}], "invalidSyntax"),
        ([{"op": "replace", "path": "id", "value": "x"}], "mutability"),
        ([{"op": "replace", "path": "urn:other:schema:x", "value": 1}], "invalidPath"),
        ([{"op": "remove", "path": "userName"}], "invalidValue"),
        ([{"op": "replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "E999"}], "mutability"),
    ):
        bad = await send(api, "PATCH", f"/Users/{user_id}", {"schemas": [PATCH], "Operations": operations})
        assert bad.status_code == 400 and bad.json()["scimType"] == scim_type, (operations, bad.text)
    email = await send(
        api,
        "PATCH",
        f"/Users/{user_id}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "replace", "path": 'emails[type eq "work"].value', "value": "ada.okafor@example.edu"},
                {"op": "replace", "path": 'emails[type eq "work"].primary', "value": True},
            ],
        },
    )
    assert email.json()["emails"][0]["value"] == "ada.okafor@example.edu"

    not_json = await api.post("/scim/v2/Users", content="{", headers=IDP)
    assert not_json.status_code == 400 and not_json.json()["scimType"] == "invalidSyntax"
    wrong_type = await api.post("/scim/v2/Users", content="{}", headers={**IDP, "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    anonymous = await api.get("/scim/v2/Users")
    assert anonymous.status_code == 401 and anonymous.json()["schemas"] == [ERROR]
    mentor = await api.get("/scim/v2/Users", headers=auth("m1", Role.mentor))
    assert mentor.status_code == 403 and mentor.json()["status"] == "403"
