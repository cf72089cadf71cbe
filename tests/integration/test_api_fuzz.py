"""Schema-driven fuzzing of every service's OpenAPI (schemathesis): valid and invalid requests, never a 5xx.

Cases are generated from each app's own OpenAPI document, in both positive and negative mode,
deterministically, then sent to the app over ASGI on its own real database (``every_service``), half with
a token holding every role, half as a participant who is no admin, so requests get past authentication and
reach validation and the use cases. Every 400 and 422 says why (``detail``; for a 422, where and the reason).
"""

from __future__ import annotations

import contextlib
import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.integration.every_service import EVERY_ROLE, NOT_FUZZED, PARTICIPANT, SERVICES, build, every_service

CASES_PER_MODE = 8


@pytest.fixture(scope="module")
async def apis(postgres, broker):
    async with every_service(postgres, broker.bootstrap) as running:
        yield running


def generated_cases(service: str) -> list:
    schema = schemathesis.openapi.from_dict(build(service, "postgresql://unused/unused").openapi())
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


def request_of(case, caller: dict[str, str]) -> dict:
    kwargs = case.as_transport_kwargs()
    headers = {
        k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in ("connection", "authorization")
    }
    request = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "params": kwargs.get("params"),
        "headers": {**headers, **caller},
    }
    for key in ("json", "content", "data"):
        if key in kwargs:
            raw = isinstance(kwargs[key], (str, bytes))
            request["content" if raw and key == "data" else key] = kwargs[key]
    return request


@pytest.mark.parametrize("service", SERVICES)
async def test_no_generated_request_gets_a_server_error(apis, service) -> None:
    cases = generated_cases(service)
    assert len(cases) > 20
    failures, answered = [], set()
    for case, caller in zip(cases, itertools.cycle((EVERY_ROLE, PARTICIPANT)), strict=False):
        request = request_of(case, caller)
        response = await apis[service].client.request(**request)
        answered.add(response.status_code)
        if response.status_code >= 500:
            failures.append(
                f"{request['method']} {request['url']} {request.get('params')} "
                f"{str(request.get('json', request.get('content')))[:300]} -> {response.status_code}"
            )
        elif response.status_code in (400, 422):
            detail = response.json().get("detail")
            assert detail, (request, response.text)  # a reason
            if response.status_code == 422 and isinstance(detail, list):
                assert all(d.get("loc") and d.get("msg") for d in detail), (request, detail)  # where, and why
    assert not failures, "\n".join(failures[:20])
    assert 422 in answered  # the negative cases reached validation, not only authentication
