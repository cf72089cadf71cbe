"""Relationship and participant timelines: every event from request to closure, without personal data.

Events are linked across services by the ids they carry: a ``MatchApproved``
names its request, a ``RelationshipStarted`` names its match.  What a summary keeps
is decided by the event catalog (``shared.personal.without_personal``): every field
the catalog marks personal is left out, nested ones too (names, e-mails, biographies,
motivations, decline reasons, goals' text, a profile change's old and new values, a
failed notification's error), and so is any field the catalog does not declare (a
newer producer's, or a type this version does not know: its summary is empty).
Notes and comments never travel on the bus in the first place.

A participant's own streams (their profile's events, the notifications sent to them)
have them as their party, so erasure finds every row that is theirs (``erasure``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import asyncpg
import msgspec

from services.analytics.projecting import binary_copy, erasure
from services.analytics.projecting.copying import insert_new
from services.analytics.projecting.projections.catalog import PUBLISHED, by_type, upcast
from shared.envelope import EnvelopeRecord
from shared.events.matching import (
    MatchApproved,
    MentorResponded,
    RequestExpired,
    RequestForwarded,
    RequestRanked,
    RequestReviewed,
    RequestUnmatched,
    RequestWithdrawn,
)
from shared.events.notifications import NotificationFailed, NotificationSent
from shared.events.profiles import ParticipantErased
from shared.events.relationships import RelationshipStarted
from shared.logging import get_logger
from shared.personal import stripper

log = get_logger(__name__)

PARTICIPANT_FIELDS = (
    "participant_id",
    "mentee_id",
    "mentor_id",
    "mentee_ids",
    "respondent_id",
    "recipient_id",
    "signed_by",
)
_PARTICIPANT_FIELDS = frozenset(PARTICIPANT_FIELDS)
DDL = """
CREATE TABLE {schema}.timeline_events (
    seq          bigserial   NOT NULL,  -- order of arrival, a tie-break when times are equal (no index needed)
    event_id     uuid        NOT NULL,  -- unique: the projector hands over each event once (projected_events)
    stream_kind  text        NOT NULL,
    stream_id    text        NOT NULL,
    event_type   text        NOT NULL,
    at           timestamptz NOT NULL,
    participants text[]      NOT NULL,
    summary      text        NOT NULL  -- JSON, read back whole and never queried into: text, not checked again
);
CREATE INDEX ON {schema}.timeline_events (stream_kind, stream_id);
-- A participant's timeline finds the events naming them without reading every event.
CREATE INDEX ON {schema}.timeline_events USING gin (participants);
CREATE TABLE {schema}.stream_parties (
    stream_kind    text NOT NULL,
    stream_id      text NOT NULL,
    participant_id text NOT NULL,
    PRIMARY KEY (participant_id, stream_kind, stream_id)
);
-- Who may read a relationship (its parties) and a request or match of it.
CREATE INDEX ON {schema}.stream_parties (stream_kind, stream_id);
CREATE TABLE {schema}.timeline_links (
    kind    text NOT NULL,
    from_id text NOT NULL,
    to_id   text NOT NULL,
    PRIMARY KEY (kind, from_id)
);
"""


class Entry(NamedTuple):  # a tuple, not a frozen dataclass: built for nearly every event of a replay
    stream_kind: str
    stream_id: str
    participants: list[str]
    summary: dict
    link: tuple[str, str, str] | None = None
    parties: tuple[str, ...] = ()
    """Whose timeline the whole stream belongs to: the request's mentee, the match's and relationship's pair."""


_new_entry = tuple.__new__
"""``Entry`` made from all its fields at once, in C (``Entry(...)`` runs a ``__new__`` written in Python): an
entry per event of a replay (``bench/replay.py``)."""


def entry_for(envelope: EnvelopeRecord) -> Entry | None:
    """The timeline row of one event, or ``None`` when it belongs to no timeline."""
    found = RULES.get(envelope.type)
    if found is None:  # a type the catalog does not publish (a newer producer's): nothing to upcast
        data = envelope.data
        stream = _by_source(envelope, data)
        event = None
    else:
        event, version, (rule, strip) = found
        data = envelope.data if envelope.schemaversion == version else upcast(event, envelope)
        stream = rule(envelope, data)
    if stream is None:
        return None
    kind, stream_id, link, parties = stream
    # set operations, inline: this runs for every event of a replay; most name nobody (no set made for them)
    if _PARTICIPANT_FIELDS.isdisjoint(data):
        participants = []
    else:
        participants = sorted({p for field in _PARTICIPANT_FIELDS.intersection(data) for p in _as_list(data[field])})
    # Unknown to the catalog: nothing says which of its fields are personal, so none is kept.
    summary = {} if event is None else strip(data)
    return _new_entry(Entry, (kind, stream_id, participants, summary, link, parties))


Stream = tuple[str, str, tuple[str, str, str] | None, tuple[str, ...]]
"""What a rule says of an event: its stream's kind and id, the link it makes, whose timeline the stream is on."""


def _participants(data: dict) -> list[str]:
    named = _PARTICIPANT_FIELDS.intersection(data)
    return sorted({p for field in named for p in _as_list(data[field])}) if named else []


def _ranked(envelope: EnvelopeRecord, data: dict) -> Stream:
    return "request", data["request_id"], None, (data["mentee_id"],)


def _request_step(envelope: EnvelopeRecord, data: dict) -> Stream:
    return "request", data["request_id"], None, ()


def _matched(envelope: EnvelopeRecord, data: dict) -> Stream:
    link = ("match->request", data["match_id"], data["request_id"]) if data.get("request_id") else None
    return "match", data["match_id"], link, (data["mentee_id"], data["mentor_id"])


def _started(envelope: EnvelopeRecord, data: dict) -> Stream:
    link = ("relationship->match", data["relationship_id"], data["match_id"])
    mentors = (data.get("mentor_id"), *(data.get("co_mentor_ids") or ()))  # no mentor in a peer circle
    return "relationship", data["relationship_id"], link, (*(m for m in mentors if m), *data["mentee_ids"])


def _notified(envelope: EnvelopeRecord, data: dict) -> Stream | None:
    """On the timelines of the people it names (a notification naming nobody is on none); theirs."""
    people = _participants(data)
    if not people:
        return None
    return "notification", data.get("notification_id", str(envelope.id)), None, tuple(people)


def _erased(envelope: EnvelopeRecord, data: dict) -> None:
    """Not on any timeline: it removes the participant's own rows (``erasure``), its own among them."""
    return None


def _by_source(envelope: EnvelopeRecord, data: dict) -> Stream | None:
    """Any other event: on its relationship's timeline, or its participant's, by the service that published it."""
    if envelope.source.endswith("/relationships") and data.get("relationship_id"):
        return "relationship", data["relationship_id"], None, ()
    if envelope.source.endswith("/profiles") and data.get("participant_id"):
        return "participant", data["participant_id"], None, (data["participant_id"],)
    return None


_STREAMS = {
    **dict.fromkeys(PUBLISHED.values(), _by_source),
    RequestRanked: _ranked,
    **dict.fromkeys(
        (RequestReviewed, RequestForwarded, MentorResponded, RequestExpired, RequestUnmatched, RequestWithdrawn),
        _request_step,
    ),
    MatchApproved: _matched,
    RelationshipStarted: _started,
    NotificationSent: _notified,
    NotificationFailed: _notified,
    ParticipantErased: _erased,
}
RULES = by_type({event: (rule, stripper(event)) for event, rule in _STREAMS.items()})
"""Every published event: its request, match or relationship stream by its type, the others by their source;
and what its summary keeps (``shared.personal.stripper``, resolved once per type)."""


class Prepared(NamedTuple):
    count: int
    encoded: bytes
    """The ``count`` rows in binary COPY format, encoded here: in the projector's worker, not on the event loop."""
    links: list[tuple[str, str, str]]
    parties: list[tuple[str, str, str]]
    people: list[str]
    """Everyone given a stream in this batch: a row of an erased person's is removed again (``erasure``)."""


def prepare(events: Sequence[EnvelopeRecord]) -> Prepared:
    """The batch's timeline rows, links and stream parties (no I/O: the projector runs this ahead).

    Rows go straight into binary COPY format, field by field in the order of ``_COLUMNS`` (a tuple per
    row encoded afterwards cost a tenth of a replay's CPU more).
    """
    links, parties, count = [], [], 0
    parts = [binary_copy.HEADER]
    append, text, row_start = parts.append, binary_copy.text_field, binary_copy.row_start(len(_COLUMNS))
    uuid, timestamptz, participants = (
        binary_copy.uuid_field,
        binary_copy.timestamptz_field,
        binary_copy.text_array_field,
    )
    kinds, types = binary_copy.Remembered(text), binary_copy.Remembered(text)
    length, nobody = binary_copy.length_prefix, binary_copy.text_array_field(())
    for envelope in events:
        try:  # a payload missing what the timeline needs fails here, before any row is written
            entry = entry_for(envelope)
            if entry is None:
                continue
            kind, stream_id, named, summary, link, stream_parties = entry
            # text fields inline, as their length and UTF-8 bytes (a call each cost a twentieth of the timeline)
            stream, summary = stream_id.encode(), _json(summary)
            row = b"".join(
                (
                    row_start,
                    uuid(envelope.id),
                    kinds[kind],
                    length(len(stream)),
                    stream,
                    types[envelope.type],
                    timestamptz(envelope.time),
                    participants(named) if named else nobody,
                    length(len(summary)),
                    summary,
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("event not projectable into timelines; skipped", event_id=str(envelope.id), error=repr(exc))
            continue
        append(row)
        count += 1
        if link:
            links.append(link)
        if stream_parties:
            parties += [(kind, stream_id, party) for party in stream_parties]
    append(binary_copy.TRAILER)
    return Prepared(count, b"".join(parts), links, parties, list({party for _, _, party in parties}))


async def write(conn: asyncpg.Connection, schema: str, prepared: Prepared) -> None:
    """Events are new to the generation (the projector deduplicates by id), so rows are copied in (binary COPY)."""
    count, encoded, links, parties, people = prepared
    if count:
        await binary_copy.copy_encoded(conn, schema, "timeline_events", _COLUMNS, encoded)
    # The first link of a kind and id wins, as when events came one at a time.
    await insert_new(conn, schema, "timeline_links", {"kind": "text", "from_id": "text", "to_id": "text"}, links)
    await insert_new(
        conn, schema, "stream_parties", {"stream_kind": "text", "stream_id": "text", "participant_id": "text"}, parties
    )
    # An erasure read before this person's rows (another topic, or a later batch of a replay) still removes them.
    await erasure.erase_late_arrivals(conn, schema, people)


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))


_COLUMNS = ("event_id", "stream_kind", "stream_id", "event_type", "at", "participants", "summary")
_json = msgspec.json.Encoder().encode


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
