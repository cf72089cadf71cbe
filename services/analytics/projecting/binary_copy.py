"""Rows encoded in Postgres' binary COPY format ahead of time, off the event loop.

asyncpg encodes ``copy_records_to_table`` rows while it sends them, on the event loop: in a
replay that was a fifth of the projector's CPU, spent while Postgres waited. The big tables
(a timeline row per event, an id per event, a meeting per ``MeetingLogged``) are encoded here
instead, in the projector's worker thread together with the rows, and the event loop only sends
the bytes. The column types are the few these tables use; anything else is a ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import chain, repeat
from struct import Struct
from uuid import UUID

import asyncpg

_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"  # signature, flags, no extension
_TRAILER = b"\xff\xff"
_NULL = b"\xff\xff\xff\xff"
_FIELD_COUNT = Struct("!h")
_LENGTH = Struct("!i")
_INT4 = Struct("!ii")  # length 4, value
_INT8 = Struct("!iq")  # length 8, value
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PG_EPOCH_DAY = date(2000, 1, 1).toordinal()
_MICROSECOND = timedelta(microseconds=1)
_UUID_LENGTH = _LENGTH.pack(16)
_TRUE, _FALSE = _LENGTH.pack(1) + b"\x01", _LENGTH.pack(1) + b"\x00"


def _text(value: str | bytes) -> bytes:
    """A text (or json) field; ``bytes`` are taken as already UTF-8."""
    data = value if isinstance(value, bytes) else value.encode()
    return _LENGTH.pack(len(data)) + data


def _uuid(value: str | UUID) -> bytes:
    # ``int.to_bytes`` is what ``UUID.bytes`` returns, without the property's Python frame (a timeline row per event)
    return _UUID_LENGTH + (value.int if isinstance(value, UUID) else UUID(value).int).to_bytes(16, "big")


def _timestamptz(value: datetime) -> bytes:
    """Microseconds since 2000-01-01 UTC (a naive value is taken as UTC, as Postgres would with TimeZone UTC).

    The whole microseconds of the difference in one C division (exact for a ``timedelta``), not three attributes and
    arithmetic in Python: a timeline row per event of a replay (``bench/replay.py``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return _INT8.pack(8, (value - _PG_EPOCH) // _MICROSECOND)


def _date(value: date) -> bytes:
    return _INT4.pack(4, value.toordinal() - _PG_EPOCH_DAY)


def _int4(value: int) -> bytes:
    return _INT4.pack(4, value)


def _bool(value: bool) -> bytes:
    return _TRUE if value else _FALSE


_INT2 = Struct("!ih")  # length 2, value
_TEXT_OID, INT2_OID, INT4_OID, DATE_OID = 25, 21, 23, 1082
_ARRAY_HEADER = Struct("!iiiiii")  # field length, dimensions (1), has nulls (0), element type, length, lower bound
_EMPTY_TEXT_ARRAY = _LENGTH.pack(12) + Struct("!iii").pack(0, 0, _TEXT_OID)


def _text_array(values: Sequence[str]) -> bytes:
    """A one-dimensional ``text[]`` without nulls (most timeline rows name nobody: one constant)."""
    if not values:
        return _EMPTY_TEXT_ARRAY
    elements = b"".join([_text(v) for v in values])
    return array_header(_TEXT_OID, len(values), len(elements)) + elements


def array_header(element_oid: int, count: int, elements_length: int) -> bytes:
    """The start of a one-dimensional array field, not empty and without nulls, of ``count`` elements that take
    ``elements_length`` bytes encoded as fields (length and value: ``int4_field``, ``int2_field``,
    ``ordinal_date_field``); the elements follow it, so repeated ones can be encoded once."""
    return _ARRAY_HEADER.pack(elements_length + 20, 1, 0, element_oid, count, 1)


ENCODERS: dict[str, Callable[[object], bytes]] = {
    "uuid": _uuid,
    "text": _text,
    "json": _text,
    "timestamptz": _timestamptz,
    "date": _date,
    "integer": _int4,
    "boolean": _bool,
    "text[]": _text_array,
}


text_field, uuid_field, timestamptz_field, text_array_field = _text, _uuid, _timestamptz, _text_array
length_prefix = _LENGTH.pack
"""A field's 4-byte length: followed by that many bytes, a text field of bytes already UTF-8 (``text_field``)."""
int4_field = _int4


def int2_field(value: int) -> bytes:
    return _INT2.pack(2, value)


def ordinal_date_field(ordinal: int) -> bytes:
    """A date given as its ``date.toordinal()`` (a day computed as an int need not become a ``date``)."""
    return _INT4.pack(4, ordinal - _PG_EPOCH_DAY)


HEADER, TRAILER = _HEADER, _TRAILER


def row_start(field_count: int) -> bytes:
    return _FIELD_COUNT.pack(field_count)


class Remembered(dict):
    """Encoded fields of values that repeat (an event type, a stream kind): encoded once per batch."""

    def __init__(self, encoder: Callable[[object], bytes]) -> None:
        super().__init__()
        self.encoder = encoder

    def __missing__(self, value: object) -> bytes:
        field = self[value] = self.encoder(value)
        return field


def encode_ids(ids: Sequence[UUID]) -> bytes:
    """One-column rows of uuids (the projector's ids of a batch)."""
    return encode_id_bytes([i.bytes if isinstance(i, UUID) else UUID(i).bytes for i in ids])


_ID_ROW_START = _FIELD_COUNT.pack(1) + _UUID_LENGTH


def encode_id_bytes(ids: Sequence[bytes]) -> bytes:
    """``encode_ids`` of ids given as their 16 bytes (``UUID.bytes``): one ``join`` for the whole batch."""
    if not ids:
        return _HEADER + _TRAILER
    return b"".join((_HEADER, _ID_ROW_START, _ID_ROW_START.join(ids), _TRAILER))


def encode(types: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """``rows`` (values in the order of ``types``; ``None`` is NULL) as one binary COPY stream."""
    unknown = [t for t in types if t not in ENCODERS]
    if unknown:
        raise ValueError(f"no binary COPY encoder for column type {', '.join(unknown)}")
    encoders = [ENCODERS[t] for t in types]
    if not rows:
        return _HEADER + _TRAILER
    # Column by column (a comprehension per column), then interleaved with the rows' field counts in C: about a
    # third less than a Python loop over every row's fields (``bench/replay.py``: a meeting per event of two).
    columns = [
        [_NULL if value is None else encoder(value) for value in column]
        for encoder, column in zip(encoders, zip(*rows, strict=True), strict=False)
    ]
    fields = chain.from_iterable(zip(repeat(_FIELD_COUNT.pack(len(types)), len(rows)), *columns, strict=True))
    return b"".join((_HEADER, *fields, _TRAILER))


async def copy_encoded(conn: asyncpg.Connection, schema: str, table: str, columns: Sequence[str], data: bytes) -> None:
    """Send what ``encode`` made (a memoryview: asyncpg would take plain bytes for a file name)."""
    await conn.copy_to_table(table, schema_name=schema, source=memoryview(data), columns=list(columns), format="binary")
