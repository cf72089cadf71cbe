"""Queries: a relationship's timeline (its request, match and relationship events) and a participant's."""

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


async def relationship_timeline(conn: asyncpg.Connection, schema: str, relationship_id: str) -> dict | None:
    rows = await conn.fetch(_RELATIONSHIP.format(schema=schema), relationship_id)
    if not rows:
        return None
    entries = _entries(rows)
    return {
        "relationship_id": relationship_id,
        "participants": _participants(rows),
        "entries": entries,
        "milestones": milestones(entries),
    }


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


def _participants(rows: list[asyncpg.Record]) -> list[str]:
    return sorted({p for row in rows for p in row["participants"]})
