"""Fast starts, one narrow row per relationship: the dashboard reads one table instead of joining five.

The dashboard's fast starts (``querying/evaluation.fast_starts``) count, per program and cohort, the days from
a relationship's match to its agreement signed and to its first meeting held. They were worked out at each
computed read from ``eval_relationships`` joined with ``eval_matches``, ``eval_milestones`` (twice) and
``participants``: about 300 ms of Postgres CPU per read at ``bench/reads.py --scale 1`` (5M events, ~100,000
relationships). Here the projector keeps the result of that join, a row per relationship (``fast_starts``)
with the keys a dashboard filters it by: its program, the current department and cohort of its (first) mentee,
its start, its match day (the match's UTC day, or the start without one), its first agreement signed and
first meeting held (the earliest). A read aggregates that one table (``GROUP BY`` the days, the medians from
the counts of each day) and sends a few hundred rows.

The figures depend on "now" (a milestone after it does not count yet, a start whose 30 days have not passed
is not decided): the rows keep dates, not figures, so a read at any "now" (``end``) answers from them.

The row of a relationship is the join over the evaluation facts as they are (written by ``evaluation`` earlier
in the same batch), so events may arrive in any order:

each batch writes again, from the facts, the rows of the relationships it starts, signs an agreement of or logs a
meeting of, of the matches it approves and of the people it registers (a registration may move its mentee to
another department); a row that comes out the same is left alone.

A rebuild (a generation created with deferred indexes: ``relationship_sums``' ``rel_sum_deferred`` holds its row)
leaves the rows alone batch by batch and ``catch_up`` writes every row once, with one join, before the indexes
are built (``generations.build_indexes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import asyncpg

from services.analytics.projecting.projections import kept_rows
from shared.envelope import EnvelopeRecord

DDL = """
CREATE TABLE {schema}.fast_starts (
    relationship_id text PRIMARY KEY,
    match_id        text,
    mentee_id       text,
    program_id      text NOT NULL,
    department      text,  -- the mentee's, now (participants)
    cohort          text,  -- the mentee's, now (participants), null without a registration
    started_on      date NOT NULL,
    matched_on      date NOT NULL,  -- the match's UTC day, else started_on
    signed_on       date,  -- the first agreement signed
    met_on          date   -- the first meeting held
);
CREATE INDEX ON {schema}.fast_starts (match_id);
CREATE INDEX ON {schema}.fast_starts (mentee_id)
"""

_RELATIONSHIP_EVENTS = frozenset({"RelationshipStarted", "AgreementSigned", "MeetingLogged"})
_REGISTRATIONS = frozenset({"MentorRegistered", "MenteeRegistered"})


class Prepared(NamedTuple):
    relationships: list[str]
    """Relationships the batch starts, signs an agreement of or logs a meeting of."""
    matches: list[str]
    """Matches approved in the batch."""
    registered: list[str]
    """People registered in the batch (their department may have changed)."""


def prepare(events: Sequence[EnvelopeRecord]) -> Prepared:
    """What the batch may change of the rows (more than needed is harmless: those rows are written the same). Ids
    are read from the payload as it came: no version of these events renamed them."""
    relationships: set[str] = set()
    matches: set[str] = set()
    registered: set[str] = set()
    for envelope in events:
        data = envelope.data
        if not isinstance(data, dict):
            continue
        kind = envelope.type
        if kind in _RELATIONSHIP_EVENTS:
            found, field = relationships, "relationship_id"
        elif kind == "MatchApproved":
            found, field = matches, "match_id"
        elif kind in _REGISTRATIONS:
            found, field = registered, "participant_id"
        else:
            continue
        if isinstance(data.get(field), str):
            found.add(data[field])
    return Prepared(sorted(relationships), sorted(matches), sorted(registered))


_COLUMNS = (
    "relationship_id, match_id, mentee_id, program_id, department, cohort, started_on, matched_on, signed_on, met_on"
)
_ROWS = """
    SELECT r.relationship_id, r.match_id, r.mentee_ids[1], r.program_id, p.department, p.cohort, r.started_on,
           coalesce((m.matched_at AT TIME ZONE 'UTC')::date, r.started_on),
           s.on_date, f.on_date
    FROM {schema}.eval_relationships r
    LEFT JOIN {schema}.eval_matches m ON m.match_id = r.match_id
    LEFT JOIN {schema}.eval_milestones s ON s.relationship_id = r.relationship_id AND s.kind = 'signed'
    LEFT JOIN {schema}.eval_milestones f ON f.relationship_id = r.relationship_id AND f.kind = 'meeting'
    LEFT JOIN {schema}.participants p ON p.participant_id = r.mentee_ids[1]
"""


async def write(conn: asyncpg.Connection, schema: str, prepared: Prepared) -> None:
    """Write again, from the facts, the rows the batch may change (after ``evaluation`` and ``program`` wrote its
    facts, in the same transaction); a row that comes out the same is left as it is."""
    relationships, matches, registered = prepared
    if not (relationships or matches or registered):
        return
    if await kept_rows.rebuilding(conn, schema):
        return
    await conn.execute(
        f"""INSERT INTO {schema}.fast_starts AS f ({_COLUMNS})
            {_ROWS.format(schema=schema)}
            WHERE r.relationship_id IN (
                SELECT unnest($1::text[])
                UNION ALL SELECT relationship_id FROM {schema}.fast_starts WHERE match_id = ANY($2::text[])
                UNION ALL SELECT relationship_id FROM {schema}.fast_starts WHERE mentee_id = ANY($3::text[]))
            ON CONFLICT (relationship_id) DO UPDATE SET ({_COLUMNS}) = ROW(EXCLUDED.*)
            WHERE (f.*) IS DISTINCT FROM (EXCLUDED.*)""",
        relationships,
        matches,
        registered,
    )


async def catch_up(conn: asyncpg.Connection, schema: str, *, force: bool = False) -> None:
    """Every row once at a rebuild's end (``kept_rows.rebuild``)."""
    await kept_rows.rebuild(conn, schema, "fast_starts", _COLUMNS, _ROWS.format(schema=schema), force=force)


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))
