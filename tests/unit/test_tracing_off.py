"""Tracing off (no OTLP endpoint, the default): a consumed record is handled with no span and nothing else."""

from __future__ import annotations

import pytest

from shared import tracing

pytestmark = pytest.mark.unit


def test_a_consumed_record_gets_no_span_and_its_errors_pass_through() -> None:
    assert not tracing.enabled()
    headers = ((b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),)
    with tracing.consume_span("profiles.events", headers, "MentorRegistered", "e-1") as inside:
        assert inside is None
    with pytest.raises(ValueError, match="the handler's"), tracing.consume_span("t", (), "E", "e-2"):
        raise ValueError("the handler's")
    assert tracing.publish_span("t", None, "E", "e-3") == (None, [])
