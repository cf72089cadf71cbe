"""A corpus of hostile input against every route of every service: 4xx with a reason, never a 5xx.

For each route (read from the app's own OpenAPI, so a new route is covered without editing this file):
every leaf of a valid body replaced by each hostile value (oversized, NUL, control characters, lone
surrogates, huge, negative and fractional numbers, wrong types, deep nesting), too many list items, unknown
keys; whole bodies that are not JSON as a service expects it (deep nesting, invalid UTF-8, duplicate keys,
huge number literals, ``NaN``, truncated, empty, wrong content types); path parameters that are not ids
(not UUIDs, NUL, control characters, invalid UTF-8, 10,000 characters, dot segments); query parameters and
``If-Match`` headers likewise. Every service runs on its own real database (``every_service``).

Then the bounds themselves, on the requests the issue named: 30 interests of 40,000 characters are refused
naming the field and the reason, and a registration at every bound is accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from shared.fields import MAX_BIOGRAPHY, MAX_INTERESTS, MAX_NAME, MAX_TAG
from tests.integration.every_service import EVERY_ROLE, NOT_FUZZED, PARTICIPANT, SERVICES, every_service

ID = "00000000-0000-4000-8000-000000000000"
GOAL = {"goal_id": "g1", "text": "Submit a K award", "measure": "submitted", "due_on": "2027-12-01"}
PROFILE = {"biography": "Cardiologist", "specialty": "cardiology", "career_stage": "senior", "interests": ["grants"]}
SCIM_USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "ada@example.edu",
    "externalId": "E1",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "emails": [{"value": "ada@example.edu", "primary": True}],
    "active": True,
}
SCIM_GROUP = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "displayName": "Cardiology",
    "members": [{"value": ID}],
}
SCIM_SEARCH = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
    "filter": 'userName eq "ada@example.edu"',
    "attributes": ["userName"],
    "startIndex": 1,
    "count": 10,
}
VALID_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/mentors"): {"name": "Ada", "email": "ada@example.edu", "capacity": 2, "profile": PROFILE},
    ("POST", "/mentees"): {"name": "Bo", "email": "bo@example.edu", "profile": PROFILE, "employee_id": "E2"},
    ("PATCH", "/participants/{participant_id}/profile"): {
        "name": "Ada",
        "profile": {"interests": ["grants"], "languages": ["en", "pt-BR"], "location": "Oslo"},
        "availability": {"hours_per_month": 4, "formats": ["video"]},
        "demographics": {"consented": True, "gender": "woman"},
    },
    ("PUT", "/participants/{participant_id}/capacity"): {"capacity": 3},
    ("POST", "/participants/{participant_id}/training"): {"kind": "workshop", "completed_on": "2026-01-05"},
    ("POST", "/aggregates/demographics"): {
        "dimension": "gender",
        "groups": {"matched": ["p1", "p2"], "not_matched": ["p3"]},
        "min_cell": 5,
    },
    ("POST", "/hr/imports"): {"mode": "snapshot", "roster": ["E1", "E2"], "max_leaver_share": 0.5},
    ("POST", "/hr/imports/{import_id}/rows"): {
        "rows": [{"row": 1, "fields": {"employee_id": "E1", "effective_date": "2026-01-01", "department": "Med"}}]
    },
    ("POST", "/hr/imports/{import_id}/hashes"): {"rows": [1, 2], "hashes": ["0" * 32, "ab" * 16]},
    ("POST", "/scim/v2/Users"): SCIM_USER,
    ("PUT", "/scim/v2/Users/{user_id}"): SCIM_USER,
    ("PATCH", "/scim/v2/Users/{user_id}"): {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    },
    ("POST", "/scim/v2/.search"): SCIM_SEARCH,
    ("POST", "/scim/v2/Users/.search"): SCIM_SEARCH,
    ("POST", "/scim/v2/Groups"): SCIM_GROUP,
    ("PUT", "/scim/v2/Groups/{group_id}"): SCIM_GROUP,
    ("PATCH", "/scim/v2/Groups/{group_id}"): {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": ID}]}],
    },
    ("POST", "/scim/v2/Groups/.search"): {**SCIM_SEARCH, "filter": 'displayName eq "Cardiology"'},
    ("POST", "/requests"): {"biography": "Fellow", "motivation": "Grants", "ranked_mentor_ids": ["m1", "m2"]},
    ("POST", "/requests/{request_id}/review"): {"approved": False, "decline_reason": "not eligible yet"},
    ("POST", "/requests/{request_id}/response"): {"accepted": False, "reason": "full"},
    ("POST", "/requests/{request_id}/match"): {"mentor_id": "m1"},
    ("POST", "/requests/{request_id}/withdrawal"): {"reason": "found one"},
    ("PUT", "/programs/{program_id}/weights"): dict.fromkeys(
        ("specialty", "interests", "career_stage", "language", "time_zone", "preferences"), 1
    ),
    ("PUT", "/programs/{program_id}/response-deadline"): {"days": 7},
    ("POST", "/programs"): {
        "program_id": "faculty",
        "name": "Faculty mentoring",
        "model": "one_to_one",
        "matching_mode": "director_review",
        "eligibility": {"departments": ["cardiology"], "hr_attributes": {"job_function": ["faculty"]}},
        "surveys": ["midpoint"],
    },
    ("PUT", "/programs/{program_id}"): {
        "name": "Faculty mentoring",
        "model": "one_to_one",
        "matching_mode": "director_review",
        "starts_on": "2026-09-01",
        "ends_on": "2027-06-30",
    },
    ("POST", "/programs/{program_id}/enrolments"): {"participant_id": "m1", "role": "mentor", "capacity": 2},
    ("POST", "/programs/{program_id}/groups"): {"mentor_ids": ["m1"], "mentee_ids": ["e1", "e2"]},
    ("POST", "/bulk-runs"): {
        "mode": "stable",
        "mentee_ids": ["e1", "e2"],
        "pinned": {"e1": "m1"},
        "forbidden": [{"mentee_id": "e2", "mentor_id": "m1"}],
    },
    ("POST", "/relationships"): {"model": "one_to_one", "mentor_id": "m1", "mentee_ids": ["e1"]},
    ("PUT", "/relationships/{relationship_id}/agreement"): {
        "format": "video",
        "goals": [GOAL],
        "development_plan": [{"title": "Aims page", "due_on": "2027-05-01"}],
    },
    ("POST", "/relationships/{relationship_id}/agreement/signatures"): {
        "revision": 1,
        "confidentiality_accepted": True,
        "no_fault_termination_acknowledged": True,
    },
    ("POST", "/relationships/{relationship_id}/meetings"): {
        "held_on": "2026-03-01",
        "duration_minutes": 45,
        "format": "video",
        "topic_tags": ["goals"],
        "notes": "between us",
    },
    ("POST", "/relationships/{relationship_id}/goals"): {k: GOAL[k] for k in ("text", "measure", "due_on")},
    ("POST", "/relationships/{relationship_id}/goals/{goal_id}/progress"): {
        "status": "in_progress",
        "progress_percent": 40,
    },
    ("POST", "/relationships/{relationship_id}/reviews"): {"outcome": "continued"},
    ("POST", "/relationships/{relationship_id}/closure"): {"reason": "objectives_achieved"},
    ("PUT", "/relationships/{relationship_id}/meetings/availability"): {
        "windows": [{"weekday": 1, "start": "09:00", "end": "12:00"}]
    },
    ("POST", "/relationships/{relationship_id}/meetings/proposals"): {
        "candidates": ["2030-03-10T14:00:00+01:00"],
        "duration_minutes": 60,
        "agenda_goals": ["g1"],
        "agenda_topics": ["goals"],
    },
    ("POST", "/relationships/{relationship_id}/meetings/{meeting_id}/acceptance"): {
        "starts_at": "2030-03-10T14:00:00+01:00"
    },
    ("POST", "/relationships/{relationship_id}/meetings/{meeting_id}/reschedule"): {
        "candidates": ["2030-03-17T14:00:00+01:00"],
        "duration_minutes": 45,
    },
    ("POST", "/relationships/{relationship_id}/meetings/{meeting_id}/held"): {
        "notes": "Went well.",
        "duration_minutes": 45,
        "topics": ["goals"],
    },
    ("PUT", "/programs/{program_id}/surveys/{kind}"): {
        "questions": [{"id": "q1", "text": "How useful?", "type": "scale"}],
    },
    ("POST", "/surveys/{survey_id}/responses"): {"answers": {"useful": 4, "next": "yes"}},
    ("PUT", "/participants/{participant_id}/preferences"): {"channels": ["email"], "digest": True},
    ("POST", "/replays"): {"as_of": "2026-01-01T00:00:00Z"},
}


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_VALUES: dict[str, Any] = {
    "100,001 characters": "x" * 100_001,
    "NUL": "a\x00b",
    "control characters": "a\x1b[2J\x07\x08\r",
    "lone surrogate": "a\ud800b",
    "right-to-left override and astral": "\u202e\U0001f600",
    "huge integer": 10**30,
    "-1": -1,
    "float for int": 1.5,
    "null": None,
    "empty string": "",
    "the last day": "9999-12-31",
    "the first day": "0001-01-01",
    "the last moment": "9999-12-31T23:59:59+00:00",
    "array": [],
    "object": {"x": 1},
    "nesting 200 deep": _nested(200),
}
LIST_ITEMS = 1_000
PATH_VALUES = {
    "not a UUID": "not-a-uuid",
    "NUL": "a%00b",
    "control characters": "a%1b%07",
    "invalid UTF-8": "%ff%fe",
    "lone surrogate": "%ed%a0%80",
    "astral": "%F0%9F%98%80",
    "10,000 characters": "x" * 10_000,
    "dot segments": "..%2F..%2Fadmin",
    "-1": "-1",
    "huge number": "9" * 30,
    "0": "0",
}
QUERY_VALUES = {  # as sent, percent-encoded
    "NUL": "a%00b",
    "control characters": "a%1b%07",
    "lone surrogate": "a%ed%a0%80",
    "invalid UTF-8": "%ff%fe",
    "10,000 characters": "x" * 10_000,
    "-1": "-1",
    "huge number": "9" * 30,
    "huge negative": "-" + "9" * 30,
    "float": "1.5",
    "NaN": "NaN",
    "array": "[]",
}
IF_MATCH_VALUES = {"huge version": '"' + "9" * 30 + '"', "negative": '"-1"', "not a number": '"abc"', "NUL": '"1\x00"'}
RAW_BODIES: dict[str, tuple[bytes, str]] = {
    "deep nesting (100,000)": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "deep object nesting (10,000)": (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "application/json"),
    "invalid UTF-8": (b'{"name": "\xff\xfe\xfd"}', "application/json"),
    "huge number literal": (b'{"capacity": 1' + b"0" * 10_000 + b"}", "application/json"),
    "1e999": (b'{"capacity": 1e999}', "application/json"),
    "NaN literal": (b'{"capacity": NaN, "max_leaver_share": NaN}', "application/json"),
    "truncated": (b'{"name": "Ad', "application/json"),
    "empty": (b"", "application/json"),
    "null": (b"null", "application/json"),
    "array": (b"[]", "application/json"),
    "string": (b'"text"', "application/json"),
    "2,000,000 characters": (json.dumps({"x": "y" * 2_000_000}).encode(), "application/json"),
}
CONTENT_TYPES = (
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    None,
)


@pytest.fixture(scope="module")
async def apis(postgres, broker):
    async with every_service(postgres, broker.bootstrap) as running:
        yield running


def operations(app) -> Iterator[tuple[str, str, dict]]:
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            if (method.upper(), path) not in NOT_FUZZED:
                yield method.upper(), path, operation


def leaves(value: Any, at: tuple = ()) -> Iterator[tuple]:
    """Every place in a JSON document: object members and list items, down to the scalars."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*at, key)
            yield from leaves(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*at, index)
            yield from leaves(inner, (*at, index))


def replaced(document: Any, at: tuple, new: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for step in at[:-1]:
        target = target[step]
    target[at[-1]] = new
    return copy


def hostile_bodies(valid: Any) -> Iterator[tuple[str, dict]]:
    """``(label, httpx request arguments)`` for one route's body."""
    for at in leaves(valid):
        for name, value in HOSTILE_VALUES.items():
            yield f"{'.'.join(map(str, at))} = {name}", {"json": replaced(valid, at, value)}
    lists = [at for at in leaves(valid) if isinstance(_get(valid, at), list) and _get(valid, at)]
    for at in lists:
        items = _get(valid, at)
        yield f"{'.'.join(map(str, at))} with {LIST_ITEMS} items", {"json": replaced(valid, at, items * LIST_ITEMS)}
    if isinstance(valid, dict):
        yield "an unknown member", {"json": {**valid, "unknown\x00member": "x" * 100_001}}
        first = next(iter(valid))
        duplicated = json.dumps(valid)[:-1] + f', "{first}": "{"x" * 100_001}"}}'
        yield (
            f"duplicate key {first}",
            {"content": duplicated.encode(), "headers": {"content-type": "application/json", **EVERY_ROLE}},
        )
    for name, (raw, content_type) in RAW_BODIES.items():  # by an admin, so that each reaches the parser
        yield name, {"content": raw, "headers": {"content-type": content_type, **EVERY_ROLE}}
    for content_type in CONTENT_TYPES:
        headers = {**EVERY_ROLE} if content_type is None else {"content-type": content_type, **EVERY_ROLE}
        yield f"content type {content_type}", {"content": json.dumps(valid).encode(), "headers": headers}


def _get(document: Any, at: tuple) -> Any:
    for step in at:
        document = document[step]
    return document


def url_of(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), ID), path)


def hostile_requests(method: str, path: str, operation: dict) -> Iterator[tuple[str, dict]]:
    parameters = operation.get("parameters", [])
    path_names = [p["name"] for p in parameters if p["in"] == "path"]
    valid = VALID_BODIES[(method, path)] if "requestBody" in operation else None  # every body route has an example
    body = {} if valid is None else {"json": valid}
    for name in path_names:
        for label, value in PATH_VALUES.items():
            yield f"path {name} = {label}", {"url": url_of(path, {name: value}), **body}
    url = url_of(path, {})
    for parameter in (p for p in parameters if p["in"] == "query"):
        for label, value in QUERY_VALUES.items():
            yield f"query {parameter['name']} = {label}", {"url": f"{url}?{parameter['name']}={value}", **body}
    if any(p["in"] == "header" and p["name"].lower() == "if-match" for p in parameters):
        for label, value in IF_MATCH_VALUES.items():
            yield f"If-Match {label}", {"url": url, "headers": {"If-Match": value}, **body}
    if valid is not None:
        for label, arguments in hostile_bodies(valid):
            yield f"body {label}", {"url": url, **arguments}


def refusal_problem(status: int, text: str) -> str | None:
    """What is wrong with a 4xx answer (None: it gives a reason, and a 422 names where and why)."""
    if status >= 500:
        return "a server error"
    if status not in (400, 422):
        return None
    try:
        detail = json.loads(text).get("detail") if text.startswith("{") else None
    except json.JSONDecodeError:
        return "a body that is not JSON"
    if not detail:
        return "no detail"
    if status == 422 and isinstance(detail, list) and not all(d.get("loc") and d.get("msg") for d in detail):
        return "a 422 not naming the field and the reason"
    return None


@pytest.mark.parametrize("service", SERVICES)
async def test_no_hostile_input_gets_a_server_error_and_every_refusal_says_why(apis, service) -> None:
    api = apis[service]
    failures, sent = [], 0
    for method, path, operation in operations(api.app):
        if not operation.get("parameters") and "requestBody" not in operation:
            continue
        for number, (label, arguments) in enumerate(hostile_requests(method, path, operation)):
            caller = EVERY_ROLE if number % 2 == 0 else PARTICIPANT
            headers = {**caller, **arguments.pop("headers", {})}
            if "json" in arguments:  # encoded here, ASCII-escaped, so a lone surrogate travels as \ud800
                arguments["content"] = json.dumps(arguments.pop("json")).encode()
                headers["content-type"] = "application/json"
            response = await api.client.request(method, headers=headers, **arguments)
            sent += 1
            problem = refusal_problem(response.status_code, response.text)
            if problem:
                failures.append(f"{method} {path} [{label}] -> {response.status_code} {problem}: {response.text[:160]}")
    assert sent > 50
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures[:60])


def _reasons(response) -> dict[tuple, str]:
    return {tuple(error["loc"]): error["msg"] for error in response.json()["detail"]}


async def test_thirty_interests_of_forty_thousand_characters_are_refused_naming_the_field(apis) -> None:
    profiles = apis["profiles"].client
    body = {**VALID_BODIES[("POST", "/mentees")], "employee_id": None}
    body["profile"] = {**PROFILE, "interests": ["i" * 40_000] * 30}  # the 1.2 MB: over the body limit
    assert (await profiles.post("/mentees", json=body, headers=PARTICIPANT)).status_code == 413
    body["profile"] = {**PROFILE, "interests": ["i" * 20_000] * 30}  # 600 kB: under it, so every field is checked
    response = await profiles.post("/mentees", json=body, headers=PARTICIPANT)
    assert response.status_code == 422
    reasons = _reasons(response)
    assert reasons[("body", "profile", "interests", 0)] == f"String should have at most {MAX_TAG} characters"
    assert len(reasons) == 30  # every item, each named

    body["profile"] = {**PROFILE, "interests": ["grants"] * (MAX_INTERESTS + 1), "languages": ["en", "not a tag"]}
    body["name"], body["email"] = "Ada\u0007", "a\u0007@example.edu"
    reasons = _reasons(await profiles.post("/mentees", json=body, headers=PARTICIPANT))
    assert (
        reasons[("body", "profile", "interests")]
        == f"List should have at most {MAX_INTERESTS} items after validation, not 31"
    )
    assert "one line of text" in reasons[("body", "name")] and "control characters" in reasons[("body", "name")]
    assert ("body", "email") in reasons and ("body", "profile", "languages", 1) in reasons
    body["name"] = "Ada\u0000"  # a NUL is refused at the parse level, before the model, naming the field too
    assert ("body", "name") in _reasons(await profiles.post("/mentees", json=body, headers=PARTICIPANT))


async def test_a_registration_at_every_bound_is_accepted(apis) -> None:
    body = {
        "name": "N" * MAX_NAME,
        "email": "bounds@example.edu",
        "profile": {
            **PROFILE,
            "biography": "b\n\t" * (MAX_BIOGRAPHY // 3),
            "interests": [f"{i:02}" + "i" * (MAX_TAG - 2) for i in range(MAX_INTERESTS)],
            "languages": ["en", "pt-BR", "zh-Hant-TW"],
        },
    }
    response = await apis["profiles"].client.post("/mentees", json=body, headers=PARTICIPANT)
    assert response.status_code == 201, response.text


async def test_bounds_of_the_other_services_name_the_field_and_the_reason(apis) -> None:
    request = {**VALID_BODIES[("POST", "/requests")], "motivation": "m" * (MAX_BIOGRAPHY + 1)}
    response = await apis["matching"].client.post("/requests", json=request, headers=PARTICIPANT)
    assert _reasons(response) == {("body", "motivation"): f"String should have at most {MAX_BIOGRAPHY} characters"}
    meeting = {**VALID_BODIES[("POST", "/relationships/{relationship_id}/meetings")], "topic_tags": ["t" * 51]}
    response = await apis["relationships"].client.post(
        f"/relationships/{ID}/meetings", json=meeting, headers=PARTICIPANT
    )
    assert _reasons(response) == {("body", "topic_tags", 0): "String should have at most 50 characters"}
    meeting = {**meeting, "topic_tags": [], "held_on": "9999-12-31"}
    response = await apis["relationships"].client.post(
        f"/relationships/{ID}/meetings", json=meeting, headers=PARTICIPANT
    )
    assert _reasons(response) == {("body", "held_on"): "Value error, lies outside 1900-01-01..2199-12-31"}
    response = await apis["matching"].client.get("/requests/a%00b", headers=PARTICIPANT)
    assert response.status_code == 422 and [e["loc"] for e in response.json()["detail"]] == [["path", "request_id"]]
