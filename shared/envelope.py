"""CloudEvents 1.0 envelope (structured JSON mode) carried on every topic.

Extension attributes follow the CloudEvents naming rule (lower-case letters and
digits only): ``correlationid``, ``causationid``, ``sequence``, ``schemaversion``.
Unknown attributes from newer producers are ignored, never rejected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from pydantic import BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/cloudevents+json"


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
    sequence: int = Field(ge=1, description="Version of the event within its stream")
    schemaversion: int = Field(ge=1, description="Version of the payload schema")
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)


class EnvelopeRecord(msgspec.Struct, frozen=True, gc=False):
    """A read-only view of an envelope for bulk readers (the analytics projector replays millions).

    The same attributes and rules as ``Envelope`` (unknown attributes ignored, ``sequence`` and
    ``schemaversion`` at least 1, spec and content type fixed), decoded by msgspec: about five
    times faster than pydantic here, which was a quarter of a replay's CPU.  ``gc=False``: a record
    holds no cycles, so the collector need not track the millions a replay creates.
    """

    id: UUID
    source: str
    type: str
    time: datetime
    subject: str
    correlationid: UUID
    sequence: Annotated[int, msgspec.Meta(ge=1)]
    schemaversion: Annotated[int, msgspec.Meta(ge=1)]
    data: dict[str, Any]
    specversion: Literal["1.0"] = "1.0"
    datacontenttype: Literal["application/json"] = "application/json"
    causationid: UUID | None = None


_record_decoder = msgspec.json.Decoder(EnvelopeRecord)
InvalidEnvelope = msgspec.ValidationError, msgspec.DecodeError
"""What ``read_envelope`` raises for bytes that are not a valid envelope."""


def read_envelope(raw: bytes) -> EnvelopeRecord:
    return _record_decoder.decode(raw)
