"""Append-only event store in a service's own Postgres database.

``append`` runs inside the caller's transaction, so the caller's state change,
the events and their outbox rows commit (or roll back) together.  Optimistic
concurrency: the caller says which stream version it decided on; if another
writer got there first, ``ConcurrencyConflict`` is raised and nothing is written.

Every event is measured as the relay will publish it (``shared.bus.message_size``: key, envelope,
headers) before anything is written: one over ``max_event_bytes`` raises ``EventTooLarge`` (HTTP 413),
so the caller's transaction rolls back whole and no event the broker would refuse enters the outbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID, uuid4

import asyncpg
import msgspec

from shared.bus import message_headers, message_size
from shared.clock import Clock, SystemClock
from shared.envelope import Envelope, sequence_text
from shared.errors import ConcurrencyConflict, EventTooLarge
from shared.events.base import Event, decode
from shared.sealing import Sealing, is_sealed, needs_sealing, plan
from shared.settings import DEFAULT_MAX_EVENT_BYTES


def _appending(rows: str, returning: str, result: str) -> str:
    """One statement that inserts ``rows`` into ``events`` and queues them in ``outbox``."""
    return f"""
WITH inserted AS (
    INSERT INTO events (event_id, stream_id, version, event_type, schema_version,
                        occurred_at, correlation_id, causation_id, data)
    {rows}
    RETURNING {returning}
), queued AS (
    INSERT INTO outbox (position) SELECT position FROM inserted
)
{result}
"""


# Appends only while the stream is still at the expected version ($2); otherwise inserts nothing.
_AT_EXPECTED_VERSION = "(SELECT coalesce(max(version), 0) AS version FROM events WHERE stream_id = $1) AS current"

_APPEND = _appending(
    f"""SELECT e.event_id, $1, $2 + e.ord, e.event_type, e.schema_version, $3, $4, $5, e.data::jsonb
    FROM {_AT_EXPECTED_VERSION},
         unnest($6::uuid[], $7::text[], $8::int[], $9::text[])
             WITH ORDINALITY AS e(event_id, event_type, schema_version, data, ord)
    WHERE current.version = $2""",
    "position, version",
    "SELECT position, version FROM inserted ORDER BY version",
)

# The common case, one event per command, without the array machinery.
_APPEND_ONE = _appending(
    f"""SELECT $6, $1, $2 + 1, $7, $8, $3, $4, $5, ($9::text)::jsonb
    FROM {_AT_EXPECTED_VERSION}
    WHERE current.version = $2""",
    "position, version",
    "SELECT position, version FROM inserted",
)

# Many new streams with one event each (version 1), e.g. one outcome per notification, in one statement.
_START_STREAMS = _appending(
    """SELECT e.event_id, e.stream_id, 1, e.event_type, e.schema_version, $1, e.event_id, NULL, e.data::jsonb
    FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[])
         WITH ORDINALITY AS e(event_id, stream_id, event_type, schema_version, data, ord)
    ORDER BY e.ord""",
    "position",
    "SELECT count(*) FROM inserted",
)

# Many new streams, each with its events from version 1 and its own correlation and causation, in one statement.
_NEW_STREAMS = _appending(
    """SELECT e.event_id, e.stream_id, e.version, e.event_type, e.schema_version, $1, e.correlation_id,
           e.causation_id, e.data::jsonb
    FROM unnest($2::uuid[], $3::text[], $4::int[], $5::text[], $6::int[], $7::uuid[], $8::uuid[], $9::text[])
         WITH ORDINALITY AS e(event_id, stream_id, version, event_type, schema_version, correlation_id,
                              causation_id, data, ord)
    ORDER BY e.ord""",
    "position",
    "SELECT count(*) FROM inserted",
)

NewStream = tuple[str, Sequence[Event], UUID | None, UUID | None]
"""``(stream_id, events, correlation_id, causation_id)`` of a stream that does not exist yet."""

_COLUMNS = (
    "position, event_id, stream_id, version, event_type, schema_version,"
    " occurred_at, correlation_id, causation_id, data"
)


@dataclass(frozen=True)
class StoredEvent:
    position: int
    envelope: Envelope

    @property
    def event(self) -> Event:
        return decode(self.envelope.type, self.envelope.data, self.envelope.schemaversion)


class PayloadCodec(Protocol):
    """Transforms a payload on its way into and out of the store: ``shared.sealing.Sealing``, which seals
    personal fields per person.

    The store keeps what ``seal`` returns and the relay publishes it as it is (personal fields sealed on the
    bus too); ``read_stream``/``read_all`` give back what ``open`` makes of it. A codec may also have
    ``seal_many``/``open_many``, the same for several payloads at once (one read of the keys): the store uses
    them when it appends or reads more than one.
    """

    async def seal(
        self, conn: asyncpg.Connection, stream_id: str, event_type: str, data: dict, earlier: Sequence[tuple[str, dict]]
    ) -> dict:
        """``earlier``: ``(type, payload)`` of the events before this one in the same append (not stored yet)."""

    async def open(self, conn: asyncpg.Connection, stream_id: str, event_type: str, data: dict) -> dict: ...


def _require_transaction(conn: asyncpg.Connection, what: str) -> None:
    if not conn.is_in_transaction():
        raise RuntimeError(f"{what} must run inside the transaction that holds the state change")


@contextmanager
def _conflict_as(stream_id: str, expected_version: int) -> Iterator[None]:
    """Another writer's row at a version this append wanted: a ``ConcurrencyConflict``, nothing written.
    (The caller's transaction is aborted then, so the winner's version can't be read here.)"""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != "events_stream_version_unique":
            raise
        raise ConcurrencyConflict(stream_id, expected_version, actual=None) from exc


class EventStore:
    def __init__(
        self,
        service: str,
        clock: Clock | None = None,
        codec: PayloadCodec | None = None,
        *,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        self.service = service
        self.source = f"/services/{service}"
        self.clock = clock or SystemClock()
        self.codec = codec if codec is not None else Sealing()  # one codec for every service's store
        self.max_event_bytes = max_event_bytes  # the runtime sets it from ServiceSettings.max_event_bytes
        self._last_time: tuple[datetime | None, str] = (None, "")  # ``envelope_bytes``' last time, as it writes it

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> list[Envelope]:
        _require_transaction(conn, "append")
        if not events:
            return []
        ids = [uuid4() for _ in events]
        payloads = [e.model_dump_json() for e in events]
        correlation_id = correlation_id or ids[0]
        occurred_at = self.clock.now()
        stored = await self._sealed(conn, [(stream_id, e) for e in events], payloads)
        for i, (event_id, event, payload) in enumerate(zip(ids, events, stored, strict=True)):
            fields = (event_id, stream_id, expected_version + i + 1, event, occurred_at, correlation_id, causation_id)
            self._check_size(*fields, payload)
        common = (stream_id, expected_version, occurred_at, correlation_id, causation_id)
        with _conflict_as(stream_id, expected_version):
            if len(events) == 1:
                rows = await conn.fetch(
                    _APPEND_ONE, *common, ids[0], events[0].type_name(), events[0].schema_version, stored[0]
                )
            else:
                types, versions = [e.type_name() for e in events], [e.schema_version for e in events]
                rows = await conn.fetch(_APPEND, *common, ids, types, versions, stored)
        if not rows:
            raise ConcurrencyConflict(stream_id, expected_version, await self.stream_version(conn, stream_id))
        return [
            Envelope.model_construct(  # fields come from validated events and the database: no re-validation
                id=event_id,
                source=self.source,
                type=event.type_name(),
                specversion="1.0",
                time=occurred_at,
                subject=stream_id,
                datacontenttype="application/json",
                correlationid=correlation_id,
                causationid=causation_id,
                sequence=row["version"],
                schemaversion=event.schema_version,
                data=json.loads(payload),
            )
            for event_id, event, payload, row in zip(ids, events, payloads, rows, strict=True)
        ]

    async def start_streams(self, conn: asyncpg.Connection, firsts: Sequence[tuple[str, Event]]) -> None:
        """Append the first event of each of many new streams in one statement (the same as
        ``append(conn, stream_id, 0, [event])`` for each, with one round trip for all).
        ``ConcurrencyConflict`` if one of the streams already exists."""
        _require_transaction(conn, "start_streams")
        if not firsts:
            return
        payloads = [event.model_dump_json() for _, event in firsts]
        ids, occurred_at = [uuid4() for _ in firsts], self.clock.now()
        stored = await self._sealed(conn, firsts, payloads)
        for event_id, (stream_id, event), payload in zip(ids, firsts, stored, strict=True):
            self._check_size(event_id, stream_id, 1, event, occurred_at, event_id, None, payload)
        with _conflict_as(firsts[0][0] if len(firsts) == 1 else "one of several", 0):
            await conn.fetchval(
                _START_STREAMS,
                occurred_at,
                ids,
                [stream_id for stream_id, _ in firsts],
                [event.type_name() for _, event in firsts],
                [event.schema_version for _, event in firsts],
                stored,
            )

    async def append_new_streams(self, conn: asyncpg.Connection, streams: Sequence[NewStream]) -> datetime:
        """Start many new streams, each with one or more events, in one statement (the same as
        ``append(conn, stream_id, 0, events, correlation_id=..., causation_id=...)`` for each, with one
        round trip for all and the payloads sealed together); the time they occurred at.
        ``ConcurrencyConflict`` if one of the streams already exists: nothing is written then."""
        _require_transaction(conn, "append_new_streams")
        occurred_at = self.clock.now()
        ids: list[UUID] = []
        flat: list[tuple[str, Event]] = []
        versions: list[int] = []
        correlations: list[UUID] = []
        causations: list[UUID | None] = []
        for stream_id, events, correlation_id, causation_id in streams:
            first = uuid4()
            for version, event in enumerate(events, start=1):
                ids.append(first if version == 1 else uuid4())
                flat.append((stream_id, event))
                versions.append(version)
                correlations.append(correlation_id or first)
                causations.append(causation_id)
        if not flat:
            return occurred_at
        payloads = [event.model_dump_json() for _, event in flat]
        stored = await self._sealed(conn, flat, payloads)
        for i, ((stream_id, event), payload) in enumerate(zip(flat, stored, strict=True)):  # as `append`: sealed
            at_version = (ids[i], stream_id, versions[i], event, occurred_at, correlations[i], causations[i])
            self._check_size(*at_version, payload)
        with _conflict_as(flat[0][0] if len(streams) == 1 else "one of several", 0):
            await conn.fetchval(
                _NEW_STREAMS,
                occurred_at,
                ids,
                [stream_id for stream_id, _ in flat],
                versions,
                [event.type_name() for _, event in flat],
                [event.schema_version for _, event in flat],
                correlations,
                causations,
                stored,
            )
        return occurred_at

    def _check_size(
        self,
        event_id: UUID,
        stream_id: str,
        version: int,
        event: Event,
        occurred_at: datetime,
        correlation_id: UUID,
        causation_id: UUID | None,
        payload: str,
    ) -> None:
        """``EventTooLarge`` unless the event, as the relay will publish it, fits ``max_event_bytes``."""
        if _size_bound(payload, stream_id, event.type_name(), self.source) <= self.max_event_bytes:
            return  # well below: the exact measure (a few µs more) is for events near the limit
        head = self._head(
            event_id, stream_id, version, event.type_name(), event.schema_version, occurred_at, correlation_id,
            causation_id,
        )  # fmt: skip
        value = _with_data(head, _as_published(payload))
        size = message_size(stream_id.encode(), value, message_headers(event.type_name(), event_id))
        if size > self.max_event_bytes:
            raise EventTooLarge(event.type_name(), size, self.max_event_bytes, _largest_field(payload))

    async def _sealed(
        self, conn: asyncpg.Connection, events: Sequence[tuple[str, Event]], payloads: list[str]
    ) -> list[str]:
        """What the store keeps (and the relay publishes) of each payload: as it is, or sealed by the codec.
        An event type without personal fields is kept as it is, without a round trip through the codec."""
        if self.codec is None:
            return payloads
        if not any(plan(event.type_name()) for _, event in events):
            return payloads
        items: list[tuple[str, str, dict, list[tuple[str, dict]]]] = []
        so_far: dict[str, list[tuple[str, dict]]] = {}  # each stream's events before this one in the append
        for (stream_id, event), payload in zip(events, payloads, strict=True):
            earlier = so_far.setdefault(stream_id, [])
            data = _decode_json(payload)
            items.append((stream_id, event.type_name(), data, list(earlier)))
            earlier.append((event.type_name(), data))
        # Only a payload holding a personal value needs its subjects and keys read (two round trips): an
        # approval's empty decline reason, a response without a reason, seal nothing (bench/load.py statements).
        todo = [i for i, (_, event_type, data, _) in enumerate(items) if needs_sealing(event_type, data)]
        if not todo:
            return payloads
        stored = list(payloads)
        seal_many = getattr(self.codec, "seal_many", None)
        if seal_many is not None and len(todo) > 1:  # one round trip for the keys of all of them
            for i, sealed in zip(todo, await seal_many(conn, [items[i] for i in todo]), strict=True):
                stored[i] = _encode_json(sealed).decode()
            return stored
        for i in todo:
            stream_id, event_type, data, earlier = items[i]
            stored[i] = _encode_json(await self.codec.seal(conn, stream_id, event_type, data, earlier)).decode()
        return stored

    async def stream_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        return await conn.fetchval("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id)

    async def read_stream(self, conn: asyncpg.Connection, stream_id: str) -> list[StoredEvent]:
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY version", stream_id)
        return await self._opened_all(conn, [self.to_stored(r) for r in rows])

    async def read_all(self, conn: asyncpg.Connection, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Committed events in global (position) order.

        Positions are taken when a transaction inserts, not when it commits, so
        a reader tracking "the last position seen" could miss a slow writer's
        event; the outbox, not this method, is what publishing relies on.
        """
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            after_position,
            limit,
        )
        return await self._opened_all(conn, [self.to_stored(r) for r in rows])

    async def _opened_all(self, conn: asyncpg.Connection, stored: list[StoredEvent]) -> list[StoredEvent]:
        """The payloads as they were appended (the codec opens what it sealed; the keys read once)."""
        if self.codec is None or not any(plan(s.envelope.type) for s in stored):
            return stored
        payloads = [(s.envelope.subject, s.envelope.type, s.envelope.data) for s in stored]
        open_many = getattr(self.codec, "open_many", None)
        if open_many is not None:
            opened = await open_many(conn, payloads)
        else:
            opened = [await self.codec.open(conn, *payload) for payload in payloads]
        return [
            s if data is s.envelope.data else StoredEvent(s.position, s.envelope.model_copy(update={"data": data}))
            for s, data in zip(stored, opened, strict=True)
        ]

    def envelope_bytes(self, row: asyncpg.Record, payload_json: str) -> bytes:
        """The message for a stored row, built without a model round trip (the relay's hot path).

        ``payload_json`` is the payload's JSON text, spliced in as it is; the result reads back as
        ``to_stored(row).envelope`` does.  The bytes of ``_with_data(_head(...), payload_json)``, in one call of
        msgspec's encoder: it writes a UUID as ``str`` does and splices the payload in (``Raw``), without the texts
        in between, and the time written once for the events of an append (3.4 -> 1.9 µs an event, timeit)."""
        causation_id, occurred_at = row["causation_id"], row["occurred_at"]
        if occurred_at != self._last_time[0]:  # the events of one append, published together, share their time
            self._last_time = (occurred_at, occurred_at.astimezone(UTC).isoformat())
        return _encode_json(
            {
                "id": row["event_id"],
                "source": self.source,
                "type": row["event_type"],
                "specversion": "1.0",
                "time": self._last_time[1],
                "subject": row["stream_id"],
                "datacontenttype": "application/json",
                "correlationid": row["correlation_id"],
                "causationid": causation_id if causation_id else None,
                "sequence": sequence_text(row["version"]),
                "schemaversion": row["schema_version"],
                "data": msgspec.Raw(payload_json),
            }
        )

    def _head(
        self,
        event_id: UUID,
        stream_id: str,
        version: int,
        event_type: str,
        schema_version: int,
        occurred_at: datetime,
        correlation_id: UUID,
        causation_id: UUID | None,
    ) -> str:
        """The envelope's JSON without its data (times in UTC, as the database gives them back).  With msgspec,
        not ``json.dumps`` (the relay builds one per record: bench/hr_import.py --profile); the same JSON, its
        non-ASCII text as UTF-8 rather than escaped, so never longer."""
        return _encode_json(
            {
                "id": str(event_id),
                "source": self.source,
                "type": event_type,
                "specversion": "1.0",
                "time": occurred_at.astimezone(UTC).isoformat(),
                "subject": stream_id,
                "datacontenttype": "application/json",
                "correlationid": str(correlation_id),
                "causationid": str(causation_id) if causation_id else None,
                "sequence": sequence_text(version),
                "schemaversion": schema_version,
            }
        ).decode()

    def to_stored(self, row: asyncpg.Record) -> StoredEvent:
        data = row["data"]
        return StoredEvent(
            position=row["position"],
            envelope=Envelope.model_construct(
                id=row["event_id"],
                source=self.source,
                type=row["event_type"],
                specversion="1.0",
                datacontenttype="application/json",
                time=row["occurred_at"],
                subject=row["stream_id"],
                correlationid=row["correlation_id"],
                causationid=row["causation_id"],
                sequence=row["version"],
                schemaversion=row["schema_version"],
                data=json.loads(data) if isinstance(data, str) else data,
            ),
        )


_decode_json = msgspec.json.Decoder().decode
_encode_json = msgspec.json.Encoder().encode
"""A sealed payload's JSON round trip, several times the speed of ``json``'s (bench/hr_import.py: a fifth of
appending a new participant's first event); the text is jsonb's input, so its spacing does not matter."""


def _size_bound(payload_json: str, stream_id: str, event_type: str, source: str) -> int:
    """At least the published size: the payload's UTF-8 bytes plus a space for every ``,`` and ``:``
    (jsonb's text adds one after each separator), and room for the envelope's other fields, escaped
    at worst, with the key and headers."""
    payload = len(payload_json.encode()) + payload_json.count(",") + payload_json.count(":")
    return payload + 1024 + 10 * (len(stream_id) + len(event_type) + len(source))


def _as_published(payload_json: str) -> str:
    """The payload as the relay publishes it: Postgres' jsonb text (``", "`` and ``": "``, UTF-8 as it is),
    personal fields sealed as the store keeps them."""
    return json.dumps(json.loads(payload_json), ensure_ascii=False)


def _with_data(head: str, payload_json: str) -> bytes:
    return f'{head[:-1]},"data":{payload_json}}}'.encode()


def _largest_field(payload_json: str) -> str | None:
    """The dotted path of the payload's largest field, followed down through objects (what to shorten);
    only on the error path."""
    path: list[str] = []
    data = json.loads(payload_json)
    while isinstance(data, dict) and data and not is_sealed(data):  # a sealed value is the field itself
        name = max(data, key=lambda key: len(json.dumps(data[key], ensure_ascii=False).encode()))
        path.append(name)
        data = data[name]
    return ".".join(path) or None
