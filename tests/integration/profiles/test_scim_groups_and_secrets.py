"""SCIM beyond users: a password never kept, discovery, attribute selection, /.search, groups as departments,
and SCIM errors for every answer under /scim/v2."""

from __future__ import annotations

import json

import httpx
import pytest

from services.profiles.adapters.scim_users import PostgresScimUsers
from shared.auth import Role
from shared.db import migrate, migrations_from_package
from tests.integration.profiles.test_scim import ENTERPRISE, ERROR, IDP, PATCH, participant, send, user
from tests.integration.service_harness import auth

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
SECRET = "Hunter2!secret"


async def test_a_password_is_neither_stored_nor_returned(api, profiles_pool) -> None:
    created = await send(api, "POST", "/Users", user(password=SECRET))
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    answers = [
        created,
        await send(api, "GET", f"/Users/{user_id}"),
        await send(api, "GET", f"/Users/{user_id}?excludedAttributes=password"),
        await send(api, "GET", '/Users?filter=userName eq "ada@example.edu"'),
        await send(api, "PUT", f"/Users/{user_id}", user(Password=SECRET)),
        await send(
            api,
            "PATCH",
            f"/Users/{user_id}",
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "password", "value": SECRET}]},
        ),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert SECRET not in answer.text and "password" not in answer.text.lower()
    stored = await profiles_pool.fetchval("SELECT resource::text FROM scim_users WHERE user_id = $1", user_id)
    assert SECRET not in stored
    assert SECRET not in str(await profiles_pool.fetch("SELECT data::text FROM events"))


async def test_the_migration_forgets_passwords_stored_before(fresh_dsn, pool) -> None:
    """Rows written before passwords were dropped: migration 007 removes them, however the name was spelt."""
    package = "services.profiles.migrations"
    every = migrations_from_package(package)
    before = [m for m in every if m.name.rsplit(":", 1)[1] < "007"]
    await migrate(pool, before)
    old = {"userName": "a@x.edu", "password": SECRET, "urn:ietf:params:scim:schemas:core:2.0:User:PASSWORD": SECRET}
    async with pool.acquire() as conn:
        for n, resource in enumerate([old, {"userName": "b@x.edu"}]):
            await conn.execute(
                "INSERT INTO scim_users VALUES ($1, $2, NULL, $3, $4::text::jsonb, 1, now(), now())",
                f"u{n}",
                resource["userName"],
                f"E{n}",
                json.dumps(resource),
            )
    await migrate(pool, every)
    assert (await PostgresScimUsers().fetch(pool, "u0"))["resource"] == {"userName": "a@x.edu"}
    assert (await PostgresScimUsers().fetch(pool, "u1"))["resource"] == {"userName": "b@x.edu"}


async def test_discovery_publishes_the_platforms_rules(api) -> None:
    config = (await send(api, "GET", "/ServiceProviderConfig")).json()
    assert config["patch"]["supported"] and not config["bulk"]["supported"] and config["filter"]["maxResults"] == 200
    types = (await send(api, "GET", "/ResourceTypes")).json()
    assert {t["name"]: t["endpoint"] for t in types["Resources"]} == {"User": "/Users", "Group": "/Groups"}
    schemas = {s["id"]: s for s in (await send(api, "GET", "/Schemas")).json()["Resources"]}
    enterprise = {a["name"]: a for a in schemas[ENTERPRISE]["attributes"]}
    assert enterprise["employeeNumber"]["mutability"] == "immutable" and enterprise["employeeNumber"]["required"]
    core = {a["name"]: a for a in schemas["urn:ietf:params:scim:schemas:core:2.0:User"]["attributes"]}
    assert core["password"]["returned"] == "never"
    one = await send(api, "GET", f"/Schemas/{GROUP}")
    assert one.status_code == 200 and one.json()["id"] == GROUP


async def test_attributes_and_excluded_attributes_and_search(api) -> None:
    user_id = (await send(api, "POST", "/Users", user())).json()["id"]
    only = (
        await send(api, "GET", f"/Users/{user_id}?attributes=userName,name.givenName,{ENTERPRISE}:department")
    ).json()
    assert only == {
        "id": user_id,
        "schemas": user()["schemas"],
        "userName": "ada@example.edu",
        "name": {"givenName": "Ada"},
        ENTERPRISE: {"department": "Cardiology"},
    }
    without = (await send(api, "GET", f"/Users/{user_id}?excludedAttributes=name,emails.type,id")).json()
    assert (
        "name" not in without
        and without["id"] == user_id
        and without["emails"] == [{"value": "ada@example.edu", "primary": True}]
    )
    found = await send(
        api,
        "POST",
        "/Users/.search",
        {"schemas": [SEARCH], "filter": 'userName eq "ADA@example.edu"', "attributes": ["title"], "count": 5},
    )
    assert found.status_code == 200, found.text
    assert found.json()["totalResults"] == 1 and found.json()["Resources"] == [
        {"id": user_id, "schemas": user()["schemas"], "title": "Professor"}
    ]
    root = await send(api, "POST", "/.search", {"schemas": [SEARCH], "filter": f'id eq "{user_id}"'})
    assert [r["id"] for r in root.json()["Resources"]] == [user_id]


async def test_a_group_is_a_department(api, profiles_pool) -> None:
    ada = (await send(api, "POST", "/Users", user())).json()["id"]
    bo = (
        await send(
            api,
            "POST",
            "/Users",
            user(userName="bo@example.edu", externalId="okta-2", emails=[{"value": "bo@example.edu"}])
            | {ENTERPRISE: {"employeeNumber": "E701"}},
        )
    ).json()["id"]
    created = await send(
        api, "POST", "/Groups", {"schemas": [GROUP], "displayName": "Oncology", "members": [{"value": ada}]}
    )
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    assert [m["value"] for m in created.json()["members"]] == [ada]
    assert (await participant(profiles_pool, "E700"))["profile"]["department"] == "Oncology"
    cardiology = await send(api, "GET", '/Groups?filter=displayName eq "oncology"')
    assert cardiology.json()["totalResults"] == 1

    added = await send(
        api,
        "PATCH",
        f"/Groups/{group_id}",
        {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": bo}]}]},
    )
    assert sorted(m["value"] for m in added.json()["members"]) == sorted([ada, bo]), added.text
    bo_now = (await send(api, "GET", f"/Users/{bo}")).json()
    assert bo_now[ENTERPRISE]["department"] == "Oncology"
    assert [(g["value"], g["display"]) for g in bo_now["groups"]] == [(group_id, "Oncology")]
    assert (await participant(profiles_pool, "E701"))["profile"]["department"] == "Oncology"

    removed = await send(
        api,
        "PATCH",
        f"/Groups/{group_id}",
        {"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{ada}"]'}]},
    )
    assert [m["value"] for m in removed.json()["members"]] == [bo]
    assert (await participant(profiles_pool, "E700"))["profile"]["department"] == "unspecified"

    renamed = await send(
        api,
        "PUT",
        f"/Groups/{group_id}",
        {"schemas": [GROUP], "displayName": "Oncology Research", "members": [{"value": bo}]},
    )
    assert renamed.json()["displayName"] == "Oncology Research"
    assert (await participant(profiles_pool, "E701"))["profile"]["department"] == "Oncology Research"
    events = await profiles_pool.fetch("SELECT event_type FROM events WHERE stream_id = 'E701' ORDER BY version")
    assert [e["event_type"] for e in events].count("ProfileUpdated") >= 3  # registered, moved in, renamed

    taken = await send(api, "POST", "/Groups", {"schemas": [GROUP], "displayName": "ONCOLOGY RESEARCH"})
    assert taken.status_code == 409 and taken.json()["scimType"] == "uniqueness"
    unknown = await send(
        api, "POST", "/Groups", {"schemas": [GROUP], "displayName": "X", "members": [{"value": "nobody"}]}
    )
    assert unknown.status_code == 400 and "no user nobody" in unknown.json()["detail"]
    assert (await send(api, "GET", '/Groups?filter=displayName eq "X"')).json()[
        "totalResults"
    ] == 0  # nothing half-written

    assert (await send(api, "DELETE", f"/Groups/{group_id}")).status_code == 204
    assert (await participant(profiles_pool, "E701"))["profile"]["department"] == "unspecified"
    assert (await send(api, "GET", f"/Groups/{group_id}")).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "content", "status"),
    [
        ("GET", "/scim/v2/Nothing/here", None, 404),
        ("GET", "/scim/v2", None, 404),
        ("DELETE", "/scim/v2/ServiceProviderConfig", None, 405),
        ("POST", "/scim/v2/.search", "{", 400),
        ("POST", "/scim/v2/Users", "[" * 100_000 + "]" * 100_000, 400),
        ("POST", "/scim/v2/Users", json.dumps(user(title="a\u0000b")), 400),
        ("POST", "/scim/v2/Users/.search", json.dumps({"schemas": [SEARCH], "count": "many"}), 400),
    ],
)
async def test_every_answer_under_scim_v2_is_a_scim_error(api, method, path, content, status) -> None:
    response = await api.request(method, path, content=content, headers=IDP)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/scim+json"
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]


async def test_answers_outside_scim_keep_the_services_shape(api) -> None:
    missing = await api.get("/no/such/path", headers=auth("director", Role.admin))
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
    invalid = await api.get("/directory/mentors?limit=-5", headers=auth("director", Role.admin))
    assert invalid.status_code == 422 and isinstance(invalid.json()["detail"], list)


async def test_a_fault_under_scim_v2_is_a_scim_500_and_elsewhere_the_plain_one(app, container, monkeypatch) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(container.queries, "scim_user", broken)
    monkeypatch.setattr(container.queries, "mentors", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://profiles") as client:
        scim_fault = await client.get("/scim/v2/Users/u1", headers=IDP)
        other_fault = await client.get("/directory/mentors", headers=auth("director", Role.admin))
    assert scim_fault.status_code == 500 and scim_fault.headers["content-type"] == "application/scim+json"
    assert scim_fault.json() == {"schemas": [ERROR], "status": "500", "detail": "internal error"}  # nothing leaks
    assert other_fault.status_code == 500 and other_fault.text == "Internal Server Error"
