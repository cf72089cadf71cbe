"""Per-person keys between services: a producer serves the keys it sealed with, a consumer opens what it receives.

Personal fields travel on the bus sealed, as the producer's event store keeps them (``shared.sealing``).  A
consumer that needs them (matching: names and biographies for its directory; notifications: names, addresses,
the request's biography) is given the producers it may open in ``MENTORSHIP_KEY_SOURCES``; before a record is
decoded, ``BusOpener`` asks that producer for the keys the sealed values name (``GET /internal/person-keys``,
role ``service``) and opens them.  A producer answers ``null`` for a shredded key, so after an erasure every
copy of the person's data, in every retained record on every topic, opens to placeholders.  Any other consumer
(and any record of a producer not listed) sees the placeholders at once.

Keys are kept in the consumer's memory for ``MENTORSHIP_KEY_CACHE_SECONDS`` at most (and forgotten on the
person's ``ParticipantErased``), so a consumer catching up does not ask once per record.  A producer that does
not answer is an outage, not a poison record: the consumer retries without limit (``KeysUnavailable``).

The consumer authenticates as a system of the institution: the client-credentials grant at the provider
(``MENTORSHIP_SERVICE_CLIENT_ID``/``_SECRET``, one access token per producer's audience), or, only in
development mode, a development token.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

import httptools
import httpx
from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import StringConstraints

from shared.auth import Principal, Role, mint_token, require_roles
from shared.envelope import Envelope
from shared.fields import MAX_ID
from shared.logging import get_logger
from shared.metrics import key_fetch_latency
from shared.sealing import Keys, Sealing, open_payload, plan, sealed_subjects
from shared.settings import ServiceSettings

log = get_logger(__name__)

KEYS_PATH = "/internal/person-keys"
DEV_TOKEN_REUSE_SECONDS = 3600.0
KEY_CONNECTION_KEEPALIVE_SECONDS = 60.0  # below the producer's keep-alive (``shared.serve``): see ``key_client``
MAX_PEOPLE = 50  # a group relationship names at most 20 mentees and a mentor
PersonId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]


_releasing: set[asyncio.Future[None]] = set()
"""The key route's connections on their way back to the pool (held here: the loop keeps only weak references)."""


class KeysUnavailable(OSError):
    """No producer of the keys answered: an outage, retried without limit like the database's."""


def install_keys_route(app: FastAPI, runtime: Any) -> None:
    """``GET /internal/person-keys?person=…``: this service's keys of those people, for service consumers."""
    router = APIRouter(tags=["ops"])

    @router.get(KEYS_PATH)
    async def person_keys(
        _: Annotated[Principal, Depends(require_roles(Role.service))],
        person: Annotated[list[PersonId], Query(min_length=1, max_length=MAX_PEOPLE)],
    ) -> dict[str, dict[str, str | None]]:
        """The data keys this service sealed those people's personal fields with (base64), ``null`` for one
        shredded on erasure or never made.  Only platform services (role ``service``) may ask."""
        codec = runtime.store.codec
        if not isinstance(codec, Sealing):
            return {"keys": {p: None for p in person}}
        conn = await runtime.pool.acquire()
        try:
            keys = await codec.keys(conn, person, create=False)
        except BaseException:
            await runtime.pool.release(conn)
            raise
        # The connection goes back beside the answer, not before it: asyncpg's release takes three turns of the event
        # loop (a task of its own behind ``asyncio.shield``), and on a loop busy with commands the consumer waiting
        # for its keys waited for them too (bench/propagation.py: the route's release p99 21 ms at half the knee).
        # A task, not a background task of the response: that one would never run if sending the answer failed.
        releasing = asyncio.ensure_future(runtime.pool.release(conn))
        _releasing.add(releasing)
        releasing.add_done_callback(_releasing.discard)
        return {"keys": {p: base64.b64encode(k).decode() if k else None for p, k in keys.items()}}

    app.include_router(router)


class ServiceTokens:
    """Bearer tokens this service shows a producer: client credentials, or a development token in dev mode."""

    def __init__(self, settings: ServiceSettings, client: httpx.AsyncClient) -> None:
        self.settings, self.client = settings, client
        self._tokens: dict[str, tuple[str, float]] = {}
        self._token_endpoint: str | None = None

    async def for_service(self, producer: str) -> str:
        s = self.settings
        cached = self._tokens.get(producer)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        if not (s.oidc_issuer and s.service_client_id and s.service_client_secret):
            # Development mode only. Minted once an hour, not per request (it lives 12 h): the producer then
            # verifies one token, not one per key request (bench/load.py --profile).
            token = mint_token(s.jwt_secret, f"service:{s.service_name}", [Role.service])
            self._tokens[producer] = (token, time.monotonic() + DEV_TOKEN_REUSE_SECONDS)
            return token
        audience = s.oidc_audience.replace("{service}", producer)
        if self._token_endpoint is None:
            discovery = await self.client.get(f"{s.oidc_issuer.rstrip('/')}/.well-known/openid-configuration")
            discovery.raise_for_status()
            self._token_endpoint = discovery.json()["token_endpoint"]
        form = {"grant_type": "client_credentials", "resource": audience}
        if s.service_token_scope:
            form["scope"] = s.service_token_scope.replace("{audience}", audience)
        secret = s.service_client_secret.get_secret_value()
        response = await self.client.post(self._token_endpoint, data=form, auth=(s.service_client_id, secret))
        response.raise_for_status()
        body = response.json()
        lifetime = float(body.get("expires_in", 300))
        self._tokens[producer] = (body["access_token"], time.monotonic() + max(lifetime - 30, 0))
        return body["access_token"]


class KeySource:
    """The keys of the producers this consumer may open, fetched over HTTP and kept briefly in memory."""

    def __init__(
        self,
        sources: Mapping[str, Sequence[str]],
        tokens: ServiceTokens,
        client: httpx.AsyncClient,
        *,
        cache_seconds: float = 60.0,
        now: Callable[[], float] = time.monotonic,
        plain: PlainHttp | None = None,
    ) -> None:
        """``plain``: asks the producers at ``http://`` URLs over it rather than ``client`` (``PlainHttp``: the
        services' own consumers; tests give ``client`` a transport of theirs and no ``plain``)."""
        self.sources = {name: list(urls) for name, urls in sources.items() if urls}
        self.tokens, self.client, self.cache_seconds, self.now = tokens, client, cache_seconds, now
        self.plain = plain
        # In the order the entries expire (one lifetime for all, an entry fetched again moves to the end), so the
        # expired ones are always at the front: dropped there on each fetch, not kept for every person ever seen.
        self._cache: OrderedDict[tuple[str, str], tuple[bytes | None, float]] = OrderedDict()

    def opens(self, producer: str) -> bool:
        return producer in self.sources

    async def keys(self, producer: str, people: Sequence[str]) -> Keys:
        if producer not in self.sources:
            return {}
        now = self.now()
        found: dict[str, bytes | None] = {}
        missing: list[str] = []
        for person in people:
            cached = self._cache.get((producer, person))
            if cached is not None and cached[1] > now:
                found[person] = cached[0]
            else:
                missing.append(person)
        if missing:
            fetched = await self._fetch(producer, missing)
            self._drop_expired(now)
            for person in missing:
                found[person] = fetched.get(person)
                self._cache[(producer, person)] = (found[person], now + self.cache_seconds)
                self._cache.move_to_end((producer, person))
        return found

    def _drop_expired(self, now: float) -> None:
        while self._cache:
            cache_key, (_, expires) = next(iter(self._cache.items()))
            if expires > now:
                return
            del self._cache[cache_key]

    def cached(self) -> int:
        """How many people's keys are held now (expired ones go at the next fetch)."""
        return len(self._cache)

    def forget(self, person: str) -> None:
        """Drop a person's keys of every producer (their erasure)."""
        for cache_key in [k for k in self._cache if k[1] == person]:
            del self._cache[cache_key]

    async def _fetch(self, producer: str, people: list[str]) -> dict[str, bytes | None]:
        errors: list[str] = []
        for url in self.sources[producer]:
            try:
                token = await self.tokens.for_service(producer)
                query = [("person", p) for p in people]
                headers = {"Authorization": f"Bearer {token}"}
                with key_fetch_latency.labels(producer).time():
                    if self.plain is not None and url.startswith("http://"):
                        status, body = await self.plain.get(f"{url.rstrip('/')}{KEYS_PATH}", query, headers)
                    else:
                        response = await self.client.get(f"{url.rstrip('/')}{KEYS_PATH}", params=query, headers=headers)
                        status, body = response.status_code, response.content
                if status != 200:
                    errors.append(f"{url}: {status} {body[:200].decode(errors='replace')}")
                    continue
                keys = json.loads(body)["keys"]
                return {p: base64.b64decode(k) if isinstance(k, str) else None for p, k in keys.items()}
            except (httpx.HTTPError, OSError, EOFError, ValueError, KeyError, TypeError) as exc:
                errors.append(f"{url}: {exc!r}")
        raise KeysUnavailable(f"no key source of {producer} answered: {'; '.join(errors)}")


class PlainHttp:
    """GET over HTTP/1.1 on kept-alive connections (answers parsed by httptools), for the key requests a consumer
    makes per new person.

    httpx took about 0.65 ms of CPU per request here (building and parsing its URL, its cookie jar, httpcore's
    connection pool and h11), this about 0.08 (a local uvicorn answering the same JSON; bench/load.py: the key
    requests were a tenth of matching's CPU per command and a fifth of notifications').  Only ``http://``: the
    key source's ``https://`` URLs stay with httpx.  An idle connection is kept ``keepalive_seconds`` at most
    (below the producer's keep-alive, as ``key_client``'s); one that the producer closed meanwhile is noticed on
    its next request, which is then sent once more on a new connection.
    """

    def __init__(self, *, timeout: float = 5.0, keepalive_seconds: float = KEY_CONNECTION_KEEPALIVE_SECONDS) -> None:
        self.timeout, self.keepalive_seconds = timeout, keepalive_seconds
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]]] = {}

    async def get(self, url: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str]) -> tuple[int, bytes]:
        """The answer's status and body (``OSError`` or ``EOFError`` when the producer does not answer)."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"not a plain http URL: {url}")
        origin = (parts.hostname, parts.port or 80)
        target = f"{parts.path or '/'}?{urlencode(query)}" if query else parts.path or "/"
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Accept: application/json"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        async with asyncio.timeout(self.timeout):
            while True:
                reader, writer, reused = await self._connection(origin)
                try:
                    writer.write(head)
                    status, body, keep = await _answer(reader)
                except (OSError, EOFError):
                    writer.close()
                    if reused:
                        continue  # closed by the producer while idle: once more on a new connection
                    raise
                except BaseException:
                    writer.close()
                    raise
                if keep:
                    self._idle.setdefault(origin, []).append((reader, writer, time.monotonic()))
                else:
                    writer.close()
                return status, body

    async def _connection(self, origin: tuple[str, int]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            reader, writer, since = idle.pop()
            if now - since < self.keepalive_seconds and not reader.at_eof() and not writer.is_closing():
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection(*origin)
        return reader, writer, False

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for _, writer, _ in idle:
                writer.close()
        self._idle.clear()


class _Answer:
    """httptools' callbacks for one answer: its body's parts, whether it is complete and whether the connection
    stays open (asked when the head is read: after the message the parser has reset for the next one)."""

    __slots__ = ("body", "complete", "keep", "parser")

    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.complete = self.keep = False
        self.parser = httptools.HttpResponseParser(self)

    def on_headers_complete(self) -> None:
        self.keep = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """An HTTP/1.1 answer's status, body and whether the connection stays open, parsed by httptools (uvicorn's
    parser, llhttp): ``Content-Length`` and chunked bodies.  The key route always sends a length; an answer the
    producer ends by closing the connection before it is complete is ``IncompleteReadError`` (an ``EOFError``)."""
    answer = _Answer()
    parser = answer.parser
    received = 0
    while not answer.complete:
        data = await reader.read(_READ_SIZE)
        if not data:
            raise asyncio.IncompleteReadError(b"", None)
        received += len(data)
        if received > _MAX_ANSWER:
            raise ValueError(f"the answer is over {_MAX_ANSWER} bytes")
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as exc:
            raise ValueError(f"not an HTTP/1.1 answer: {exc}") from exc
    return parser.get_status_code(), b"".join(answer.body), answer.keep


_READ_SIZE = 65536
_MAX_ANSWER = 4 * 1024 * 1024  # MAX_PEOPLE keys are a few kB: more is not a key source's answer


class BusOpener:
    """Opens a received record's sealed fields before it is decoded (``IdempotentConsumer(opener=...)``)."""

    def __init__(self, source: KeySource | None) -> None:
        self.source = source

    async def open(self, envelope: Envelope) -> Envelope:
        if not plan(envelope.type) or not isinstance(envelope.data, dict):
            return envelope
        people = sealed_subjects(envelope.type, envelope.data, envelope.subject)
        if not people:
            return envelope  # an unsealed record (published before sealing on the bus): as it is
        producer = envelope.source.rstrip("/").rsplit("/", 1)[-1]
        keys = await self.source.keys(producer, people) if self.source is not None else {}
        data = open_payload(envelope.type, envelope.data, keys, envelope.subject)
        return envelope.model_copy(update={"data": data})

    async def open_many(self, envelopes: Sequence[Envelope]) -> list[Envelope]:
        """``open`` for a consumer's batch: one request per producer for every person its records name (at most
        ``MAX_PEOPLE`` a request), not one a record (``bench/propagation.py``: a batch's requests one after the
        other were the tail of commit → effect under load)."""
        wanted: dict[str, set[str]] = {}
        sealed: list[tuple[int, str]] = []
        for i, envelope in enumerate(envelopes):
            if not plan(envelope.type) or not isinstance(envelope.data, dict):
                continue
            people = sealed_subjects(envelope.type, envelope.data, envelope.subject)
            if people:
                producer = envelope.source.rstrip("/").rsplit("/", 1)[-1]
                sealed.append((i, producer))
                wanted.setdefault(producer, set()).update(people)
        keys: dict[str, dict[str, bytes | None]] = {producer: {} for producer in wanted}
        requests: list[tuple[str, list[str]]] = []
        for producer, people in wanted.items() if self.source is not None else ():
            ordered = sorted(people)
            requests += [(producer, ordered[i : i + MAX_PEOPLE]) for i in range(0, len(ordered), MAX_PEOPLE)]
        # All at once: a batch naming two producers' people (notifications) or more than MAX_PEOPLE waited for each
        # answer in turn, a round trip to another process each (bench/propagation.py, "key requests").  A single
        # request is awaited as it is: ``gather`` would make it a task, two more turns of a busy event loop.
        if len(requests) == 1:
            answers: list[Keys | BaseException] = [await self.source.keys(*requests[0])]
        else:
            answers = await asyncio.gather(
                *(self.source.keys(producer, people) for producer, people in requests), return_exceptions=True
            )
        for (producer, _), answer in zip(requests, answers, strict=True):
            if isinstance(answer, BaseException):
                raise answer  # as it is: ``KeysUnavailable`` is an outage, retried by the consumer
            keys[producer].update(answer)
        opened = list(envelopes)
        for i, producer in sealed:
            envelope = envelopes[i]
            data = open_payload(envelope.type, envelope.data, keys[producer], envelope.subject)
            opened[i] = envelope.model_copy(update={"data": data})
        return opened

    def forget(self, person: str) -> None:
        if self.source is not None:
            self.source.forget(person)


def key_client(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The one HTTP client a consumer process asks its producers for keys with: its connections are kept between
    requests.  httpx closes an idle one after 5 s, so a key request after a quiet spell (the usual case: one person
    registered now and then) paid a new TCP connection to the producer first, a round trip and an accept on the
    producer's busy loop; 60 s stays below the services' own keep-alive (75 s, ``shared.serve``), so the producer
    never closes a connection the client is about to use."""
    return httpx.AsyncClient(
        timeout=5.0, transport=transport, limits=httpx.Limits(keepalive_expiry=KEY_CONNECTION_KEEPALIVE_SECONDS)
    )


def parse_sources(value: Mapping[str, str]) -> dict[str, list[str]]:
    """``{"profiles": "http://a:8001,http://b:8001"}`` → each producer's URLs, tried in turn."""
    return {name: [u.strip() for u in urls.split(",") if u.strip()] for name, urls in value.items()}
