"""CloudEvents 1.0 envelope (structured JSON mode) carried on every topic.

Extension attributes follow the CloudEvents naming rule (lower-case letters and
digits only): ``correlationid``, ``causationid``, ``sequence``, ``schemaversion``.
Unknown attributes from newer producers are ignored, never rejected.

``sequence`` is the CloudEvents Sequence extension: a string that sorts lexicographically
in the order of the events of one stream.  It is written as the stream version in ten
zero-padded decimal digits (``"0000000012"``; a stream version is a Postgres ``integer``, so
ten digits always suffice).  Events published before this rule carry a JSON integer; both
forms are read, and in Python ``sequence`` is always the ``int`` version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_serializer, field_validator

CONTENT_TYPE = "application/cloudevents+json"
SEQUENCE_DIGITS = 10
SEQUENCE_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": f"^[0-9]{{{SEQUENCE_DIGITS}}}$"},
        {"type": "integer", "minimum": 1, "deprecated": True},
    ],
    "title": "Sequence",
    "description": "CloudEvents Sequence extension: the version of the event within its stream, in "
    f'{SEQUENCE_DIGITS} zero-padded decimal digits so that it sorts as a string (e.g. "0000000012"). '
    "Events published before this rule carry the version as a JSON integer; readers accept both.",
}


def sequence_text(version: int) -> str:
    """The wire form of a stream version: ``12`` → ``"0000000012"``."""
    return f"{version:0{SEQUENCE_DIGITS}d}"


def sequence_number(value: object) -> object:
    """A stream version from either wire form (the string, or the integer of older events); anything else
    is returned as it came, for the caller's validation to refuse."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: UUID
    source: str = Field(description="URI-reference of the producing service, e.g. /services/profiles")
    type: str = Field(description="Event type name from the catalog, e.g. MentorRegistered")
    specversion: Literal["1.0"] = "1.0"
    time: datetime
    subject: str = Field(description="Aggregate (stream) id; also the Kafka message key")
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: UUID
    causationid: UUID | None = None
    sequence: Annotated[int, Field(ge=1, strict=True), WithJsonSchema(SEQUENCE_SCHEMA)]
    schemaversion: int = Field(ge=1, description="Version of the payload schema")
    data: dict[str, Any]

    @field_validator("sequence", mode="before")
    @classmethod
    def _either_sequence_form(cls, value: object) -> object:
        return sequence_number(value)

    @field_serializer("sequence", when_used="json")
    def _sequence_text(self, version: int) -> str:
        return sequence_text(version)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)


class EnvelopeRecord(msgspec.Struct, frozen=True, gc=False):
    """A read-only view of an envelope for bulk readers (the analytics projector replays millions).

    The same attributes and rules as ``Envelope`` (unknown attributes ignored, ``sequence`` and
    ``schemaversion`` at least 1, ``sequence`` in either wire form, spec and content type fixed),
    decoded by msgspec: about five times faster than pydantic here, which was a quarter of a replay's
    CPU.  ``gc=False``: a record holds no cycles, so the collector need not track the millions a replay creates.
    """

    id: UUID
    source: str
    type: str
    time: datetime
    subject: str
    correlationid: UUID
    sequence: Annotated[int, msgspec.Meta(ge=1)] | str  # a string of digits: see ``__post_init__``
    schemaversion: Annotated[int, msgspec.Meta(ge=1)]
    data: dict[str, Any]
    specversion: Literal["1.0"] = "1.0"
    datacontenttype: Literal["application/json"] = "application/json"
    causationid: UUID | None = None

    def __post_init__(self) -> None:
        if type(self.sequence) is str:  # the string form; the integer of older events needs nothing
            # Digits only, as ``Envelope`` reads them (``sequence_number``), tested by two str methods: a
            # ``Meta(pattern=...)`` ran a regex per event, a twentieth of what the analytics projector's workers
            # spend decoding and preparing a replay (``bench/replay.py``), and its ``$`` let a final newline pass.
            digits = self.sequence
            if not (digits.isascii() and digits.isdigit()):
                raise ValueError("sequence must be decimal digits")
            version = int(self.sequence)
            if version < 1:
                raise ValueError("sequence must be at least 1")
            msgspec.structs.force_setattr(self, "sequence", version)


_record_decoder = msgspec.json.Decoder(EnvelopeRecord)
InvalidEnvelope = msgspec.ValidationError, msgspec.DecodeError
"""What ``read_envelope`` raises for bytes that are not a valid envelope."""


def read_envelope(raw: bytes) -> EnvelopeRecord:
    return _record_decoder.decode(raw)
