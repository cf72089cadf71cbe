"""Schema-driven fuzzing of the profiles OpenAPI (schemathesis): valid and invalid requests, never a 5xx.

Cases are generated from the app's own OpenAPI document, in both positive and
negative mode, deterministically, then sent to the app over ASGI on a real
database with a token holding every role, so requests get past authentication
and reach validation and the use cases.
"""

from __future__ import annotations

import contextlib

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from services.profiles.bootstrap import build_app
from shared.auth import Role
from shared.settings import ServiceSettings
from tests.integration.service_harness import auth

EVERY_ROLE = auth("fuzzer", Role.admin, Role.hr_integration, Role.mentor, Role.mentee)
NOT_FUZZED = {("GET", "/readyz")}  # 503 there means "not ready", which a test app without a broker is
CASES_PER_MODE = 12


def generated_cases() -> list:
    app = build_app(ServiceSettings(service_name="profiles", pg_dsn="postgresql://unused/unused"))
    schema = schemathesis.openapi.from_dict(app.openapi())
    cases = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in NOT_FUZZED:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=CASES_PER_MODE,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(mode))
            def collect(case) -> None:
                cases.append(case)

            with contextlib.suppress(Unsatisfiable):  # nothing to make invalid, e.g. no parameters
                collect()
    return cases


def request_of(case) -> dict:
    kwargs = case.as_transport_kwargs()
    headers = {
        k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in ("connection", "authorization")
    }
    request = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "params": kwargs.get("params"),
        "headers": {**headers, **EVERY_ROLE},
    }
    for key in ("json", "content", "data"):
        if key in kwargs:
            raw = isinstance(kwargs[key], (str, bytes))
            request["content" if raw and key == "data" else key] = kwargs[key]
    return request


async def test_no_generated_request_gets_a_server_error(api) -> None:
    cases = generated_cases()
    assert len(cases) > 200
    failures = []
    for case in cases:
        request = request_of(case)
        response = await api.request(**request)
        if response.status_code >= 500:
            failures.append(
                f"{request['method']} {request['url']} {request.get('params')} "
                f"{str(request.get('json', request.get('content')))[:300]} -> {response.status_code}"
            )
        elif response.status_code in (400, 422):
            body = response.json()
            assert body.get("detail"), (request, body)  # a reason, naming the field for 422s
    assert not failures, "\n".join(failures[:20])


async def test_text_with_a_nul_character_is_a_422_naming_where(api) -> None:
    body = {
        "name": "Ada\u0000",
        "email": "ada@example.edu",
        "capacity": 1,
        "profile": {"biography": "b", "specialty": "s", "career_stage": "senior"},
    }
    response = await api.post("/mentors", json=body, headers=EVERY_ROLE)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "name"]
    response = await api.get("/directory/mentors", params={"q": "a\u0000"}, headers=EVERY_ROLE)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query"]
