"""A consumer's keys of its producers (``shared.keysource``): asked for once, kept briefly, forgotten on erasure;
a producer that does not answer is an outage (``KeysUnavailable``), not a record to dead-letter."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.envelope import Envelope
from shared.keysource import KEYS_PATH, BusOpener, KeySource, KeysUnavailable, PlainHttp, ServiceTokens
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


class Producer:
    """A producer on a real socket, answering each request with the next of ``answers`` (raw HTTP/1.1 bytes)."""

    def __init__(self, answers: list[bytes], *, close_after_each: bool = False) -> None:
        self.answers, self.close_after_each = answers, close_after_each
        self.requests: list[bytes] = []
        self.connections = 0

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *_: object) -> None:
        self.server.close()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.answers:
                self.requests.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(self.answers.pop(0))
                await writer.drain()
                if self.close_after_each:
                    break
        except asyncio.IncompleteReadError:
            pass
        writer.close()


def answer(body: bytes, *extra: str) -> bytes:
    return b"\r\n".join(
        [b"HTTP/1.1 200 OK", f"content-length: {len(body)}".encode(), *map(str.encode, extra), b"", body]
    )


async def test_plain_http_asks_on_one_kept_connection_and_reads_chunked_answers() -> None:
    chunked = b'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{"a"\r\n4;x=1\r\n: 1}\r\n0\r\n\r\n'
    producer = Producer([answer(b'{"keys": {}}'), chunked])
    plain = PlainHttp()
    async with producer as url:
        assert await plain.get(f"{url}/base{KEYS_PATH}", [("person", "p 1&x"), ("person", "é")], {"A": "b"}) == (
            200,
            b'{"keys": {}}',
        )
        assert await plain.get(f"{url}{KEYS_PATH}", [], {}) == (200, b'{"a": 1}')
        await plain.aclose()
    assert producer.connections == 1
    first = producer.requests[0].decode()
    assert first.startswith(f"GET /base{KEYS_PATH}?person=p+1%26x&person=%C3%A9 HTTP/1.1\r\n")
    assert f"Host: {url.removeprefix('http://')}\r\n" in first and "A: b\r\n" in first


async def test_plain_http_asks_again_on_a_new_connection_when_the_producer_closed_the_idle_one() -> None:
    producer = Producer(
        [answer(b"1"), answer(b"2"), answer(b"3", "connection: close"), answer(b"4")], close_after_each=True
    )
    plain = PlainHttp()
    async with producer as url:
        for expected, idle in ((b"1", 0), (b"2", 0), (b"3", 0.05), (b"4", 0)):
            await asyncio.sleep(idle)  # the producer's close seen while the connection is idle, or only on asking
            assert await plain.get(url, [], {}) == (200, expected)
        await plain.aclose()
    assert producer.connections == 4


async def test_keys_through_plain_http_and_a_producer_down_is_an_outage() -> None:
    body = json.dumps({"keys": {"p2": base64.b64encode(KEY).decode(), "p3": None}}).encode()
    settings = ServiceSettings(service_name="notifications", pg_dsn="postgresql://unused", dev_mode=True)
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(500)))  # not asked
    plain = PlainHttp(timeout=2)
    async with Producer([answer(body), answer(b"refused", "x: y").replace(b"200 OK", b"403 Forbidden")]) as url:
        keys = KeySource({"matching": [url]}, ServiceTokens(settings, client), client, plain=plain)
        assert await keys.keys("matching", ["p2", "p3"]) == {"p2": KEY, "p3": None}
        with pytest.raises(KeysUnavailable, match="403 refused"):
            await keys.keys("matching", ["p4"])
    async with Producer([b""], close_after_each=True) as silent:  # a new connection closed without an answer
        with pytest.raises(KeysUnavailable, match="IncompleteReadError"):
            await KeySource({"matching": [silent]}, ServiceTokens(settings, client), client, plain=plain).keys(
                "matching", ["p5"]
            )
    async with Producer([]) as down:
        pass  # closed: nothing listens there any more
    with pytest.raises(KeysUnavailable, match="no key source of matching answered"):
        await KeySource({"matching": [down]}, ServiceTokens(settings, client), client, plain=plain).keys(
            "matching", ["p5"]
        )
    await plain.aclose()
