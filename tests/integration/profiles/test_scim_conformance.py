"""scim2-tester (RFC 7643/7644 conformance of a live server) against /scim/v2, served over a loopback socket.

The profiles app runs under uvicorn in the test's event loop on real Postgres; the checker, a blocking
client, runs in a thread and discovers the server from its own ``/ServiceProviderConfig``,
``/ResourceTypes`` and ``/Schemas`` (so the platform's rules it publishes there — required employee
number and work email, immutable employee number, password never returned, read-only member display —
shape the data it sends).  Every check must succeed or be skipped by the checker itself.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx2
import uvicorn
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from shared.auth import Role
from tests.integration.service_harness import auth

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class KeepsEmployeeNumbers(SyncSCIMClient):
    """The checker's client, sending test data that follows the documented rule: a user's employee number
    never changes.  scim2-tester 0.5 fills every writable attribute anew for PUT and PATCH and puts back
    only the top-level immutable ones (its own "dirty hotfix" until scim2-models issue 111), so it would
    send a new employee number inside the enterprise extension; the server rightly answers that with 400
    ``mutability`` (tests/integration/profiles/test_scim.py checks that answer).  Here the stored number is
    kept in such requests; nothing else is touched."""

    def modify(self, target: Any = None, id: Any = None, patch_op: Any = None, **kwargs: Any) -> Any:
        """The test data itself keeps the number, as the checker compares the answer with what it sent."""
        for operation in getattr(patch_op, "operations", None) or []:
            if hasattr(operation.value, "employee_number"):
                stored = self.client.get(f"Users/{id}").json().get(ENTERPRISE, {}).get("employeeNumber")
                operation.value.employee_number = stored
        return super().modify(target, id, patch_op, **kwargs)

    def _request_kwargs(self, method: str, req: Any) -> dict[str, Any]:
        if method in ("PUT", "PATCH") and "/Users/" in req.url and isinstance(req.payload, dict):
            stored = self.client.get(req.url).json().get(ENTERPRISE, {}).get("employeeNumber")
            if stored:
                _keep(req.payload, stored)
        return super()._request_kwargs(method, req)


def _keep(payload: dict[str, Any], number: str) -> None:
    if isinstance(payload.get(ENTERPRISE), dict):
        payload[ENTERPRISE]["employeeNumber"] = number
    for operation in payload.get("Operations", []):
        path, value = str(operation.get("path") or ""), operation.get("value")
        if path.lower() == ENTERPRISE.lower() and isinstance(value, dict):
            value["employeeNumber"] = number
        elif path.lower() == f"{ENTERPRISE}:employeeNumber".lower():
            operation["value"] = number
        elif not path and isinstance(value, dict) and isinstance(value.get(ENTERPRISE), dict):
            value[ENTERPRISE]["employeeNumber"] = number


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_scim2_tester_finds_no_error(app) -> None:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        results = await asyncio.to_thread(_check, f"http://127.0.0.1:{port}/scim/v2")
    finally:
        server.should_exit = True
        await serving
    counts = {status.name: sum(r.status == status for r in results) for status in Status}
    print("scim2-tester:", {name: n for name, n in counts.items() if n})
    failed = [f"{r.title}: {r.reason}" for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    assert not failed, "\n".join(failed)
    checked = {r.title for r in results if r.status == Status.SUCCESS}
    assert {"query_all_schemas", "object_creation", "object_replacement", "check_remove_attribute"} <= checked
    assert {"User", "Group"} <= {r.resource_type for r in results if r.status == Status.SUCCESS}


def _check(base_url: str) -> list:
    headers = auth("okta", Role.hr_integration)
    with httpx2.Client(base_url=base_url, headers=headers, timeout=30) as http:
        return check_server(KeepsEmployeeNumbers(http))
