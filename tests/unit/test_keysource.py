"""A consumer's keys of its producers (``shared.keysource``): asked for once, kept briefly, forgotten on erasure;
a producer that does not answer is an outage (``KeysUnavailable``), not a record to dead-letter."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.envelope import Envelope
from shared.keysource import KEYS_PATH, BusOpener, KeySource, KeysUnavailable, ServiceTokens
from shared.sealing import ERASED_TEXT, seal_payload
from shared.settings import ServiceSettings
from tests.unit.test_event_catalog import VALID

pytestmark = pytest.mark.unit

KEY = AESGCM.generate_key(bit_length=256)


def keyed_producer(asked: list[list[str]], keys: dict[str, bytes | None]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down":
            raise httpx.ConnectError("refused", request=request)
        assert request.url.path == KEYS_PATH and request.headers["Authorization"].startswith("Bearer ")
        people = request.url.params.get_list("person")
        asked.append(people)
        return httpx.Response(
            200, json={"keys": {p: base64.b64encode(keys[p]).decode() if keys.get(p) else None for p in people}}
        )

    return httpx.MockTransport(answer)


def source(urls: list[str], asked: list[list[str]], keys: dict[str, bytes | None], now=lambda: 0.0) -> KeySource:
    client = httpx.AsyncClient(transport=keyed_producer(asked, keys))
    settings = ServiceSettings(service_name="matching", pg_dsn="postgresql://unused", dev_mode=True)
    return KeySource({"matching": urls}, ServiceTokens(settings, client), client, cache_seconds=60, now=now)


def ranked(sealed: bool = True, mentee: str = "p2") -> Envelope:
    data = {**VALID["RequestRanked"], "mentee_id": mentee}
    if sealed:
        data = seal_payload("RequestRanked", data, [mentee], {mentee: KEY})
    return Envelope(
        id=uuid.uuid4(),
        source="/services/matching",
        type="RequestRanked",
        time=datetime(2026, 3, 2, tzinfo=UTC),
        subject="r1",
        correlationid=uuid.uuid4(),
        sequence=1,
        schemaversion=1,
        data=data,
    )


async def test_keys_are_asked_for_once_kept_briefly_and_forgotten_on_erasure() -> None:
    asked: list[list[str]] = []
    clock = [0.0]
    keys = source(["http://matching"], asked, {"p2": KEY}, now=lambda: clock[0])
    opener = BusOpener(keys)

    assert (await opener.open(ranked())).data["biography"] == VALID["RequestRanked"]["biography"]
    await opener.open(ranked())
    assert asked == [["p2"]]
    clock[0] = 61.0
    await opener.open(ranked())
    opener.forget("p2")
    await opener.open(ranked())
    assert asked == [["p2"]] * 3


async def test_expired_keys_are_dropped_not_kept_for_everyone_ever_seen() -> None:
    asked: list[list[str]] = []
    clock = [0.0]
    people = {f"p{i}": KEY for i in range(6)}
    keys = source(["http://matching"], asked, people, now=lambda: clock[0])

    await keys.keys("matching", ["p0", "p1", "p2"])
    clock[0] = 30.0
    await keys.keys("matching", ["p3"])
    await keys.keys("matching", ["p0"])  # still fresh: not fetched again, not moved
    assert keys.cached() == 4
    clock[0] = 61.0  # p0-p2 expired, p3 not
    await keys.keys("matching", ["p4", "p1"])
    assert keys.cached() == 3  # p3, p4 and p1 fetched again; p0 and p2 gone
    clock[0] = 200.0
    await keys.keys("matching", ["p5"])
    assert keys.cached() == 1
    assert asked == [["p0", "p1", "p2"], ["p3"], ["p4", "p1"], ["p5"]]


async def test_a_shredded_key_opens_to_placeholders_and_an_unsealed_record_passes_as_it_is() -> None:
    opener = BusOpener(source(["http://matching"], [], {"p2": None}))
    assert (await opener.open(ranked())).data["biography"] == ERASED_TEXT
    plain = ranked(sealed=False)
    assert await opener.open(plain) is plain
    assert (await BusOpener(None).open(ranked())).data["motivation"] == ERASED_TEXT  # not entitled


async def test_replicas_are_tried_in_turn_and_none_answering_is_an_outage() -> None:
    asked: list[list[str]] = []
    opener = BusOpener(source(["http://down", "http://matching"], asked, {"p2": KEY}))
    assert (await opener.open(ranked())).data["biography"] == VALID["RequestRanked"]["biography"]
    with pytest.raises(KeysUnavailable, match="no key source of matching answered"):
        await BusOpener(source(["http://down"], [], {})).open(ranked())


async def test_a_batch_is_opened_with_one_request_for_its_people_as_each_record_alone() -> None:
    asked: list[list[str]] = []
    people = [f"p{n}" for n in range(60)]
    keys = source(["http://matching"], asked, {p: KEY for p in people[:-1]})  # the last one's key is shredded
    batch = [ranked(mentee=p) for p in people] + [ranked(mentee="p0"), plain := ranked(sealed=False)]
    opened = await BusOpener(keys).open_many(batch)
    assert sorted(p for request in asked for p in request) == sorted(people)  # each person asked for once
    assert [len(request) for request in asked] == [50, 10]  # at most MAX_PEOPLE a request
    assert [e.data["biography"] for e in opened[:-3]] == [VALID["RequestRanked"]["biography"]] * 59
    assert opened[59].data["biography"] == ERASED_TEXT and opened[-1] is plain
    assert opened[-2].data == (await BusOpener(keys).open(batch[-2])).data
    assert [e.data["biography"] for e in await BusOpener(None).open_many(batch[:2])] == [ERASED_TEXT] * 2


def envelope_of(producer: str, mentee: str) -> Envelope:
    return ranked(mentee=mentee).model_copy(update={"source": f"/services/{producer}"})


async def test_a_batch_asks_every_producer_at_once_and_an_outage_of_one_is_an_outage() -> None:
    """Both producers' requests are in flight together: each answers only once the other was asked."""
    asked: list[str] = []
    both_asked = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down":
            raise httpx.ConnectError("refused", request=request)
        asked.append(request.url.host)
        if len(asked) == 2:
            both_asked.set()
        await both_asked.wait()
        person = request.url.params["person"]
        return httpx.Response(200, json={"keys": {person: base64.b64encode(KEY).decode()}})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    settings = ServiceSettings(service_name="notifications", pg_dsn="postgresql://unused", dev_mode=True)
    sources = {"profiles": ["http://profiles"], "matching": ["http://matching"]}
    opener = BusOpener(KeySource(sources, ServiceTokens(settings, client), client))
    batch = [envelope_of("profiles", "p1"), envelope_of("matching", "p2")]

    opened = await asyncio.wait_for(opener.open_many(batch), 30)  # a guard against hanging, not a timing

    assert sorted(asked) == ["matching", "profiles"]
    assert [e.data["biography"] for e in opened] == [VALID["RequestRanked"]["biography"]] * 2
    down = {"profiles": ["http://profiles"], "matching": ["http://down"]}
    both_asked.set()
    with pytest.raises(KeysUnavailable, match="no key source of matching answered"):
        await BusOpener(KeySource(down, ServiceTokens(settings, client), client)).open_many(
            [envelope_of("profiles", "p3"), envelope_of("matching", "p4")]
        )
