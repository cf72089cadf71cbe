"""Mentors' answers, one row per request forwarded to a mentor: responsiveness reads one table instead of a join.

The dashboard's responsiveness (``querying/evaluation._forwards``: per mentor, the requests forwarded to them by
"now", what became of each and the days to answer) joined every forward (``eval_forwards``) with its answer
(``eval_answers``) and, for a program, its request (``eval_requests``) at each computed read: the largest part of a
computed dashboard's Postgres CPU left at ``bench/reads.py --scale 1`` once fast starts were kept
(``fast_starts.py``). Here the projector keeps that join's result (``answer_days``): the forward's mentor and time,
its request's program (null while the request has no row: the default program, as the read takes it), its answer's
time and outcome. The rows keep times, not figures (the read works out the days to answer from them, as it did
from the join; a duration kept here would differ between two runs of the same history, as the clocks did): a
read at any "now" (``end``) leaves out what came after it.

Every batch writes again, from the evaluation facts it has just written, the rows of the requests it forwards,
answers, lets expire or ranks (a request's program comes with its ``RequestRanked``); a row that comes out the same
is left alone, so the events may arrive in any order. A rebuild (``relationship_sums``' ``rel_sum_deferred`` holds
its row) leaves them to ``catch_up``: every row once, with one join, before the indexes are built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import asyncpg

from services.analytics.projecting.projections import kept_rows
from shared.envelope import EnvelopeRecord

DDL = """
CREATE TABLE {schema}.answer_days (
    request_id   text    NOT NULL,
    choice_rank  integer NOT NULL,
    mentor_id    text    NOT NULL,
    program_id   text,  -- the request's (eval_requests), null without its row
    forwarded_at timestamptz NOT NULL,
    answered_at  timestamptz,
    outcome      text,  -- accepted, declined, expired, null while pending
    PRIMARY KEY (request_id, choice_rank)
)
"""

_REQUEST_EVENTS = frozenset({"RequestRanked", "RequestForwarded", "MentorResponded", "RequestExpired"})


class Prepared(NamedTuple):
    requests: list[str]
    """Requests the batch ranks, forwards, has answered or expires (ids as the payload has them)."""


def prepare(events: Sequence[EnvelopeRecord]) -> Prepared:
    requests: set[str] = set()
    for envelope in events:
        data = envelope.data
        if envelope.type in _REQUEST_EVENTS and isinstance(data, dict) and isinstance(data.get("request_id"), str):
            requests.add(data["request_id"])
    return Prepared(sorted(requests))


_COLUMNS = "request_id, choice_rank, mentor_id, program_id, forwarded_at, answered_at, outcome"
_ROWS = """
    SELECT f.request_id, f.choice_rank, f.mentor_id, r.program_id, f.forwarded_at, a.answered_at, a.outcome
    FROM {schema}.eval_forwards f
    LEFT JOIN {schema}.eval_answers a ON a.request_id = f.request_id AND a.choice_rank = f.choice_rank
    LEFT JOIN {schema}.eval_requests r ON r.request_id = f.request_id
"""


async def write(conn: asyncpg.Connection, schema: str, prepared: Prepared) -> None:
    """Write again, from the facts, the rows of the requests the batch names (after ``evaluation`` wrote them, in
    the same transaction); a row that comes out the same is left as it is."""
    if not prepared.requests or await kept_rows.rebuilding(conn, schema):
        return
    await conn.execute(
        f"""INSERT INTO {schema}.answer_days AS d ({_COLUMNS})
            {_ROWS.format(schema=schema)}
            WHERE f.request_id = ANY($1::text[])
            ON CONFLICT (request_id, choice_rank) DO UPDATE SET ({_COLUMNS}) = ROW(EXCLUDED.*)
            WHERE (d.*) IS DISTINCT FROM (EXCLUDED.*)""",
        prepared.requests,
    )


async def catch_up(conn: asyncpg.Connection, schema: str, *, force: bool = False) -> None:
    """Every row once at a rebuild's end (``kept_rows.rebuild``)."""
    await kept_rows.rebuild(conn, schema, "answer_days", _COLUMNS, _ROWS.format(schema=schema), force=force)


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))
