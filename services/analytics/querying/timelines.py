"""Queries: a relationship's timeline (its request, match and relationship events) and a participant's.

Who reads what is decided by the streams' parties (``stream_parties``: a request's mentee, a match's pair, a
relationship's mentor and mentees), never by who is named somewhere in a stream. A relationship's timeline is
its parties' and the director's: a mentor who was asked first and declined is named in the request's events
but is no party of the relationship the mentee formed later, so they do not read it. Of its request and
match, a party reads the streams they are a party of; a mentor the request was forwarded to reads the
request's entries that name nobody but its mentee and them (not the other mentors asked).
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from shared.events.matching import MatchApproved, RequestForwarded, RequestRanked, RequestReviewed
from shared.events.relationships import AgreementSigned, MeetingLogged, RelationshipClosed, RelationshipStarted

MILESTONES = tuple(
    event.type_name()
    for event in (
        RequestRanked,
        RequestReviewed,
        RequestForwarded,
        MatchApproved,
        RelationshipStarted,
        AgreementSigned,
        MeetingLogged,
        RelationshipClosed,
    )
)

_RELATIONSHIP = """
WITH matches AS (
    SELECT to_id AS match_id FROM {schema}.timeline_links WHERE kind = 'relationship->match' AND from_id = $1
), requests AS (
    SELECT to_id AS request_id FROM {schema}.timeline_links
    WHERE kind = 'match->request' AND from_id IN (SELECT match_id FROM matches)
)
SELECT event_id, stream_kind, stream_id, event_type, at, participants, summary::text AS summary
FROM {schema}.timeline_events
WHERE (stream_kind = 'relationship' AND stream_id = $1)
   OR (stream_kind = 'match' AND stream_id IN (SELECT match_id FROM matches))
   OR (stream_kind = 'request' AND stream_id IN (SELECT request_id FROM requests))
ORDER BY at, seq
"""

# Events naming the participant (through the GIN index on participants), and every other event of the
# requests, matches and relationships that are theirs (through stream_parties and the stream index).
_PARTICIPANT = """
SELECT seq, event_id, stream_kind, stream_id, event_type, at, participants, summary::text AS summary
FROM {schema}.timeline_events e
WHERE e.participants @> ARRAY[$1]::text[]
UNION ALL
SELECT e.seq, e.event_id, e.stream_kind, e.stream_id, e.event_type, e.at, e.participants, e.summary::text
FROM {schema}.stream_parties p
JOIN {schema}.timeline_events e ON e.stream_kind = p.stream_kind AND e.stream_id = p.stream_id
WHERE p.participant_id = $1 AND NOT e.participants @> ARRAY[$1]::text[]
ORDER BY at, seq
"""


_PARTIES = """
SELECT stream_kind, stream_id, participant_id FROM {schema}.stream_parties
WHERE (stream_kind, stream_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
"""
FORWARDED = RequestForwarded.type_name()


async def relationship_timeline(
    conn: asyncpg.Connection, schema: str, relationship_id: str, viewer: str | None = None
) -> dict | None:
    """The relationship's timeline as ``viewer`` may read it (``None``: the director, everything); ``None`` when
    there is no such relationship or it is not the viewer's."""
    rows = await conn.fetch(_RELATIONSHIP.format(schema=schema), relationship_id)
    if not rows:
        return None
    streams = {(row["stream_kind"], row["stream_id"]) for row in rows}
    parties: dict[tuple[str, str], set[str]] = {stream: set() for stream in streams}
    kinds, ids = zip(*streams, strict=True)
    for party in await conn.fetch(_PARTIES.format(schema=schema), list(kinds), list(ids)):
        parties[(party["stream_kind"], party["stream_id"])].add(party["participant_id"])
    own = parties.get(("relationship", relationship_id), set())
    if viewer is not None:
        if viewer not in own:
            return None
        forwarded = {r["stream_id"] for r in rows if r["event_type"] == FORWARDED and viewer in r["participants"]}
        rows = [row for row in rows if _readable(row, viewer, parties, forwarded)]
    entries = _entries(rows)
    return {
        "relationship_id": relationship_id,
        "participants": sorted(own),
        "entries": entries,
        "milestones": milestones(entries),
    }


def _readable(row: asyncpg.Record, viewer: str, parties: dict[tuple[str, str], set[str]], forwarded: set[str]) -> bool:
    """Whether a party of the relationship reads this entry of it (see the module's docstring); ``forwarded``:
    the requests forwarded to the viewer."""
    stream = (row["stream_kind"], row["stream_id"])
    if row["stream_kind"] == "relationship" or viewer in parties[stream]:
        return True
    if row["stream_kind"] != "request" or row["stream_id"] not in forwarded:
        return False
    return set(row["participants"]) <= parties[stream] | {viewer}


async def participant_timeline(conn: asyncpg.Connection, schema: str, participant_id: str) -> dict:
    rows = await conn.fetch(_PARTICIPANT.format(schema=schema), participant_id)
    return {"participant_id": participant_id, "entries": _entries(rows)}


def milestones(entries: list[dict]) -> list[dict]:
    """First time each milestone happened, with the time since the milestone before it."""
    first: dict[str, datetime] = {}
    for entry in entries:
        first.setdefault(entry["event_type"], entry["at"])
    reached = [(name, first[name]) for name in MILESTONES if name in first]
    return [
        {"milestone": name, "at": at, "seconds_since_previous": (at - reached[i - 1][1]).total_seconds() if i else None}
        for i, (name, at) in enumerate(reached)
    ]


def _entries(rows: list[asyncpg.Record]) -> list[dict]:
    entries = []
    for i, row in enumerate(rows):
        entries.append(
            {
                "event_id": str(row["event_id"]),
                "event_type": row["event_type"],
                "at": row["at"],
                "stream": f"{row['stream_kind']}:{row['stream_id']}",
                "summary": json.loads(row["summary"]),
                "seconds_since_previous": (row["at"] - rows[i - 1]["at"]).total_seconds() if i else None,
            }
        )
    return entries
