"""One trace from an HTTP command through the outbox and the bus into the consuming service, exported over OTLP.

Profiles and matching run as their own processes with ``MENTORSHIP_TRACING_OTLP_ENDPOINT`` pointing at a real
OTLP/HTTP receiver (``oteltest``'s ``HttpSink``, protobuf over HTTP as a collector takes it). A mentor registers
at profiles with the caller's ``traceparent``; the spans the two services export must form one trace: profiles'
server span of ``POST /mentors`` (a child of the caller's span), its database spans, the relay's producer span of
``profiles.events`` (whose parent is in that request's trace although another task and connection published
it), then matching's consumer span (a child of the producer span, through the record's ``traceparent`` header)
and its database spans, among them the insert into its mentor directory. The correlation id is untouched.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from oteltest.sink import HttpSink
from oteltest.sink.handler import RequestHandler

from mentorship.devstack.processes import free_port
from mentorship.stack import start_services
from shared.auth import Role
from tests.faults.workload import bearer, profile
from tests.helpers import eventually

pytestmark = pytest.mark.e2e


class Spans(RequestHandler):
    """Every span the receiver got, as (service, trace id, span id, parent span id, name, kind)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: list[dict] = []

    def handle_trace(self, request, headers) -> None:
        with self.lock:
            for resource_spans in request.resource_spans:
                service = next(
                    (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), ""
                )
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.spans.append(
                            {
                                "service": service,
                                "trace": span.trace_id.hex(),
                                "id": span.span_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "name": span.name,
                                "kind": span.kind,
                                "statement": next(
                                    (a.value.string_value for a in span.attributes if a.key == "db.statement"), ""
                                ),
                            }
                        )

    def handle_metrics(self, request, headers) -> None:
        pass

    def handle_logs(self, request, headers) -> None:
        pass

    def of(self, trace_id: str) -> list[dict]:
        with self.lock:
            return [s for s in self.spans if s["trace"] == trace_id]


@pytest.fixture(scope="module")
def receiver():
    spans = Spans()
    port = free_port()
    sink = HttpSink(spans, logging.getLogger("otlp-receiver"), port=port)
    sink.start()
    try:
        yield spans, f"http://127.0.0.1:{port}"
    finally:
        sink.stop()


async def test_one_trace_from_the_http_command_through_the_outbox_and_the_bus_to_the_consumer(
    postgres, broker, tmp_path: Path, receiver
) -> None:
    spans, endpoint = receiver
    env = {
        "MENTORSHIP_TRACING_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # the SDK's batch exporter: export within a tenth of a second
        "MENTORSHIP_CONSUMER_SESSION_TIMEOUT_MS": "2000",
    }
    with start_services(
        postgres,
        broker.bootstrap,
        tmp_path,
        names=("profiles", "matching"),
        database_prefix=f"traces_{uuid.uuid4().hex[:8]}",
        extra_env=env,
    ) as services:
        trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
        mentor = f"traced-{uuid.uuid4().hex[:8]}"
        correlation = str(uuid.uuid4())
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                f"{services['profiles'].url}/mentors",
                json={
                    "participant_id": mentor,
                    "name": "Traced Mentor",
                    "email": f"{mentor}@example.edu",
                    "capacity": 2,
                    "profile": profile(1, "mentor"),
                },
                headers={
                    **bearer("director-1", Role.admin),
                    "traceparent": f"00-{trace_id}-{caller_span}-01",
                    "X-Correlation-ID": correlation,
                },
            )
            assert response.status_code == 201, response.text
            assert response.headers["X-Correlation-ID"] == correlation  # the correlation id stays as it is

        def consumed() -> bool:
            return any(s["service"] == "matching" and "mentor_directory" in s["statement"] for s in spans.of(trace_id))

        await eventually(consumed, timeout=60)

    trace = spans.of(trace_id)
    by_id = {s["id"]: s for s in trace}
    [server] = [s for s in trace if s["service"] == "profiles" and s["parent"] == caller_span]
    assert server["name"] == "POST /mentors"
    [publish] = [s for s in trace if s["name"] == "profiles.events publish"]
    assert publish["service"] == "profiles"
    assert publish["parent"] in by_id and by_id[publish["parent"]]["service"] == "profiles"
    [process] = [s for s in trace if s["name"] == "profiles.events process" and s["service"] == "matching"]
    assert process["parent"] == publish["id"]  # continued from the record's traceparent header
    inserts = [s for s in trace if s["service"] == "matching" and "mentor_directory" in s["statement"]]
    assert inserts and all(_descends(s, process["id"], by_id) for s in inserts)
    assert any(s["service"] == "profiles" and "INSERT INTO events" in s["statement"] for s in trace)


def _descends(span: dict, ancestor: str, by_id: dict[str, dict]) -> bool:
    while span["parent"] in by_id:
        if span["parent"] == ancestor:
            return True
        span = by_id[span["parent"]]
    return span["parent"] == ancestor
