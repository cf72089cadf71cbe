"""Typed Parquet columns per event type: the envelope, then the payload flattened one level.

Scalars keep their type (text, integer, float, boolean, date, timestamp), lists
of scalars become list columns, nested objects (and lists of them) become JSON
text.  ``type`` and ``month`` are the Hive partition columns, so they live in
the directory names, not in the files.  A payload field whose name an envelope
column already has (``ProfileUpdated.source``) is written as ``data_<name>``.
"""

from __future__ import annotations

import json
import types
import typing
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from pydantic import AwareDatetime, BaseModel, FutureDate, NaiveDatetime, PastDate

from mentorship.export.privacy import Pseudonymiser, Treatment, kept_fields, subject_names_a_person
from shared.envelope import Envelope
from shared.events import Event

TIMESTAMP = pa.timestamp("us", tz="UTC")
ENVELOPE_COLUMNS = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("time", TIMESTAMP, nullable=False),
    pa.field("subject", pa.string(), nullable=False),
    pa.field("correlationid", pa.string(), nullable=False),
    pa.field("causationid", pa.string()),
    pa.field("sequence", pa.int64(), nullable=False),
    pa.field("schemaversion", pa.int32(), nullable=False),
]
PARTITION_COLUMNS = ("type", "program", "month")
RESERVED = {f.name for f in ENVELOPE_COLUMNS} | set(PARTITION_COLUMNS)
_SCALARS: list[tuple[type, pa.DataType]] = [
    (bool, pa.bool_()),
    (int, pa.int64()),
    (float, pa.float64()),
    (str, pa.string()),
    (datetime, TIMESTAMP),
    (date, pa.date32()),  # datetime before date: it is a subclass
]
_PYDANTIC_TIMES = {AwareDatetime: TIMESTAMP, NaiveDatetime: TIMESTAMP, PastDate: pa.date32(), FutureDate: pa.date32()}


def column_name(field_name: str) -> str:
    return f"data_{field_name}" if field_name in RESERVED else field_name


def arrow_type(annotation: Any) -> pa.DataType | None:
    """Arrow type of a scalar or list-of-scalars annotation; None means "write it as JSON text"."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return arrow_type(args[0])
    if origin in (typing.Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        return arrow_type(present[0]) if len(present) == 1 else None
    if origin is typing.Literal:
        kinds = {type(a) for a in args}
        return arrow_type(kinds.pop()) if len(kinds) == 1 else None
    if origin is list:
        item = arrow_type(args[0]) if args else None
        return pa.list_(item) if item is not None and not pa.types.is_list(item) else None
    if annotation in _PYDANTIC_TIMES:
        return _PYDANTIC_TIMES[annotation]
    if isinstance(annotation, type):
        for kind, arrow in _SCALARS:
            if issubclass(annotation, kind):
                return arrow
    return None


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


class EventColumns:
    """How one event type becomes rows: its Arrow schema and its row builder."""

    def __init__(self, event: type[Event]) -> None:
        self.event = event
        self.subject_is_person = subject_names_a_person(event)
        self.fields: list[tuple[str, str, Treatment, bool]] = []  # (field, column, treatment, as JSON)
        payload_columns = []
        for name, how in kept_fields(event):
            kind = None if how.nested else arrow_type(event.model_fields[name].annotation)
            as_json = kind is None
            payload_columns.append(pa.field(column_name(name), pa.string() if as_json else kind))
            self.fields.append((name, column_name(name), how, as_json))
        self.schema = pa.schema(ENVELOPE_COLUMNS + payload_columns)

    def row(self, envelope: Envelope, payload: BaseModel, pseudonym: Pseudonymiser) -> dict[str, Any]:
        data = payload.model_dump()
        row: dict[str, Any] = {
            "id": str(envelope.id),
            "source": envelope.source,
            "time": envelope.time if envelope.time.tzinfo else envelope.time.replace(tzinfo=UTC),
            "subject": pseudonym(envelope.subject) if self.subject_is_person else envelope.subject,
            "correlationid": str(envelope.correlationid),
            "causationid": str(envelope.causationid) if envelope.causationid else None,
            "sequence": envelope.sequence,
            "schemaversion": envelope.schemaversion,
        }
        for name, column, how, as_json in self.fields:
            value = how.apply(data.get(name), pseudonym)
            if as_json and value is not None:
                value = json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)
            row[column] = value
        return row
