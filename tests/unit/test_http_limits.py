"""The parse-level checks of a JSON body (``shared.limits``) and the admission queue (``shared.edge``)."""

from __future__ import annotations

import asyncio
import json

import pytest

from shared.edge import Admission
from shared.limits import MalformedBody, check_json, check_media_type

pytestmark = pytest.mark.unit


def refusal(body: bytes) -> MalformedBody:
    with pytest.raises(MalformedBody) as caught:
        check_json(body)
    return caught.value


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 400, "nests deeper than 32 levels"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, 400, "nests deeper than 32 levels"),
        (b'{"a": ' + b"7" * 1_000_000 + b"}", 400, "number too large"),
        (b'{"a": 1e999}', 400, "body.a: the number is out of range"),
        (b'{"a": NaN}', 400, "not valid JSON"),
        (b'{"a": "\xff"}', 400, "not valid UTF-8"),
        (b'{"a": "\\ud800"}', 400, "not valid UTF-8"),
        (b'{"a": "x\x00y"}', 400, "not valid JSON"),  # a raw control character inside a string
        (b'{"a": 1, "b": {"c": 1, "c": 2}}', 400, "the key 'c' twice"),
        (b'{"at": "09:00", "b": [{"c": ":", "c": 2}]}', 400, "the key 'c' twice"),  # colons inside strings too
        (b'{"a": 1} trailing', 400, "not valid JSON"),
        (b"\xef\xbb\xbf{}", 400, "not valid JSON"),  # a byte-order mark
    ],
)
def test_each_kind_of_malformed_body_is_refused_with_a_reason(body: bytes, status: int, says: str) -> None:
    refused = refusal(body)
    assert refused.status_code == status
    assert says in refused.reason


def test_a_nul_character_is_a_422_naming_the_field() -> None:
    refused = refusal(json.dumps({"profile": {"interests": ["a", "b\u0000"]}}).encode())
    assert refused.status_code == 422
    assert refused.detail[0]["loc"] == ["body", "profile", "interests", 1]
    refused = refusal(json.dumps({"profile": {"k\u0000": 1}}).encode())
    assert refused.detail[0]["loc"] == ["body", "profile", "k\u0000"]


def test_bodies_the_routes_take_pass() -> None:
    deep_enough = b'{"a":' * 31 + b"1" + b"}" * 31
    check_json(deep_enough)
    rows = [{"row": i, "fields": {"name": "Ada Ö", "n": 10**20}} for i in range(100)]
    check_json(json.dumps({"rows": rows}).encode())
    check_json(b'{"a": "\\ud83d\\ude00", "b": "line\\nbreak"}')  # an escaped surrogate pair is one character
    check_json(b'{"at": "2026-03-02T09:00:00Z", "note": "a \\": colon", "b": {"c": "::"}}')  # colons in strings


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("application/scim+json", True),
        ("Application/JSON", True),
        ("application/json; charset=latin-1", False),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        (None, False),
        ("", False),
    ],
)
def test_a_json_route_takes_json_in_utf8_only(content_type: str | None, ok: bool) -> None:
    if ok:
        check_media_type(content_type)
    else:
        with pytest.raises(MalformedBody) as caught:
            check_media_type(content_type)
        assert caught.value.status_code == 415


async def test_admission_serves_the_limit_queues_the_next_and_refuses_the_rest() -> None:
    admission = Admission(in_flight=2, queued=1, wait_seconds=5)
    assert await admission.enter() is None and await admission.enter() is None
    queued = asyncio.create_task(admission.enter())
    await asyncio.sleep(0)
    assert admission.waiting == 1 and not queued.done()
    assert await admission.enter() == "queue full"  # the queue holds one
    admission.leave()  # a slot frees: it goes to the waiting request, not back to the pool
    assert await queued is None
    assert admission.serving == 2 and admission.waiting == 0


async def test_a_queued_request_waits_at_most_the_queue_time() -> None:
    admission = Admission(in_flight=1, queued=5, wait_seconds=0.05)
    assert await admission.enter() is None
    assert await admission.enter() == "waited too long"
    admission.leave()
    assert admission.serving == 0
    assert await admission.enter() is None  # the slot is free again
    assert admission.retry_after == 1


async def test_a_waiting_request_that_goes_away_gives_its_turn_on() -> None:
    admission = Admission(in_flight=1, queued=5, wait_seconds=5)
    await admission.enter()
    gone = asyncio.create_task(admission.enter())
    after = asyncio.create_task(admission.enter())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    admission.leave()
    assert await after is None
    assert admission.serving == 1 and admission.waiting == 0
