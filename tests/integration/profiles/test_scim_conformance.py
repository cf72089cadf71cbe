"""scim2-tester (RFC 7643/7644 conformance of a live server) against /scim/v2, served over a loopback socket.

The profiles app runs under uvicorn in the test's event loop on real Postgres; the checker, a blocking
client, runs in a thread and discovers the server from its own ``/ServiceProviderConfig``,
``/ResourceTypes`` and ``/Schemas``.  Every check must succeed (or be skipped by the checker for a
feature the server says it does not offer).
"""

from __future__ import annotations

import asyncio
import socket

import httpx2
import uvicorn
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from shared.auth import Role
from tests.integration.service_harness import auth


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
    counts = {status: sum(r.status == status for r in results) for status in Status}
    print("scim2-tester:", {s.name: n for s, n in counts.items() if n})
    failed = [f"{r.title}: {r.reason}" for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    assert not failed, "\n".join(failed)
    assert counts[Status.SUCCESS] > 50


def _check(base_url: str) -> list:
    headers = auth("okta", Role.hr_integration)
    with httpx2.Client(base_url=base_url, headers=headers, timeout=30) as http:
        client = SyncSCIMClient(http)
        return check_server(client)
