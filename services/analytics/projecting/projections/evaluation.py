"""Evaluation facts (issue 18): promotions by effective date, mentor responsiveness, fast starts, priority groups.

Append-only facts, each with the program it belongs to (``program_id`` of the event when it carries one;
a version-1 event, which has none, is the built-in program ``"default"``); figures are computed from them
at query time (``querying/evaluation.py``):

- ``eval_promotions``: a job-level change on its effective date: ``WorkerPromoted``, and a worker record
  (``WorkerHired``/``WorkerUpdated``) whose ``last_promotion_date`` is set (a feed of record snapshots
  still tells when someone was promoted). Rescinded events (workforce's ``hr_rescinded``) count for nothing.
- ``eval_people``: a participant's priority group (registration; no name, no demographics);
- ``eval_requests``: a request's program and mentee; ``eval_forwards`` and ``eval_answers``: each ranked
  mentor a request was forwarded to, and their answer (accepted, declined, expired) and when;
- ``eval_matches`` and ``eval_relationships``: a match's time and program, a relationship's match and
  program; ``eval_milestones``: a relationship's first agreement signed and first meeting held (the
  earliest date wins, whatever order they arrive in).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple

import asyncpg

from services.analytics.projecting.copying import insert_new, unnest_arguments
from services.analytics.projecting.projections.catalog import apply_rules, by_type
from shared.envelope import EnvelopeRecord
from shared.events.hr import WorkerHired, WorkerPromoted, WorkerUpdated
from shared.events.matching import (
    MatchApproved,
    MentorResponded,
    RequestExpired,
    RequestForwarded,
    RequestRanked,
)
from shared.events.profiles import MenteeRegistered, MentorRegistered
from shared.events.relationships import AgreementSigned, MeetingLogged, RelationshipStarted
from shared.logging import get_logger

log = get_logger(__name__)

DEFAULT_PROGRAM = "default"

DDL = """
CREATE TABLE {schema}.eval_promotions (
    event_id    uuid NOT NULL,
    employee_id text NOT NULL,
    on_date     date NOT NULL,
    PRIMARY KEY (event_id, on_date)
);
CREATE TABLE {schema}.eval_people (participant_id text PRIMARY KEY, priority_group text);
CREATE TABLE {schema}.eval_requests (
    request_id text PRIMARY KEY,
    program_id text NOT NULL,
    mentee_id  text NOT NULL
);
CREATE TABLE {schema}.eval_forwards (
    request_id   text NOT NULL,
    choice_rank  integer NOT NULL,
    mentor_id    text NOT NULL,
    forwarded_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, choice_rank)
);
CREATE TABLE {schema}.eval_answers (
    request_id  text NOT NULL,
    choice_rank integer NOT NULL,
    mentor_id   text NOT NULL,
    outcome     text NOT NULL,
    answered_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, choice_rank)
);
CREATE TABLE {schema}.eval_matches (
    match_id   text PRIMARY KEY,
    request_id text,
    program_id text NOT NULL,
    matched_at timestamptz NOT NULL
);
CREATE TABLE {schema}.eval_relationships (
    relationship_id text PRIMARY KEY,
    match_id        text,
    program_id      text NOT NULL,
    mentee_ids      text[] NOT NULL,
    started_on      date NOT NULL
);
CREATE TABLE {schema}.eval_milestones (
    relationship_id text NOT NULL,
    kind            text NOT NULL,
    on_date         date NOT NULL,
    PRIMARY KEY (relationship_id, kind)
);
"""

COLUMNS = {
    "eval_promotions": {"event_id": "uuid", "employee_id": "text", "on_date": "date"},
    "eval_requests": {"request_id": "text", "program_id": "text", "mentee_id": "text"},
    "eval_forwards": {
        "request_id": "text",
        "choice_rank": "integer",
        "mentor_id": "text",
        "forwarded_at": "timestamptz",
    },
    "eval_answers": {
        "request_id": "text",
        "choice_rank": "integer",
        "mentor_id": "text",
        "outcome": "text",
        "answered_at": "timestamptz",
    },
    "eval_matches": {"match_id": "text", "request_id": "text", "program_id": "text", "matched_at": "timestamptz"},
}
RELATIONSHIP_COLUMNS = {
    "relationship_id": "text",
    "match_id": "text",
    "program_id": "text",
    "mentee_ids": "text",  # unit-separated (unnest cannot carry arrays of arrays), split on insert
    "started_on": "date",
}
SEPARATOR = "\x1f"


class Prepared(NamedTuple):
    rows: dict[str, list[tuple]]
    """Append-only facts by table."""
    people: dict[str, str | None]
    """participant id → priority group (the latest registration's in the batch)."""
    milestones: dict[tuple[str, str], date]
    """(relationship id, "signed" | "meeting") → the earliest date in the batch."""


def _program(data: dict) -> str:
    return data.get("program_id") or DEFAULT_PROGRAM


def _record(p: Prepared, event_id, at: datetime, data: dict) -> None:
    promoted = data["worker"].get("last_promotion_date")
    if promoted:
        p.rows["eval_promotions"].append((event_id, data["employee_id"], date.fromisoformat(promoted)))


def _promoted(p: Prepared, event_id, at: datetime, data: dict) -> None:
    p.rows["eval_promotions"].append((event_id, data["employee_id"], date.fromisoformat(data["effective_date"])))


def _registered(p: Prepared, event_id, at: datetime, data: dict) -> None:
    group = data.get("priority_group")
    if data["participant_id"] not in p.people or group is not None:
        p.people[data["participant_id"]] = group


def _ranked(p: Prepared, event_id, at: datetime, data: dict) -> None:
    p.rows["eval_requests"].append((data["request_id"], _program(data), data["mentee_id"]))


def _forwarded(p: Prepared, event_id, at: datetime, data: dict) -> None:
    p.rows["eval_forwards"].append((data["request_id"], int(data["choice_rank"]), data["mentor_id"], at))


def _responded(p: Prepared, event_id, at: datetime, data: dict) -> None:
    outcome = "accepted" if data["accepted"] else "declined"
    p.rows["eval_answers"].append((data["request_id"], int(data["choice_rank"]), data["mentor_id"], outcome, at))


def _expired(p: Prepared, event_id, at: datetime, data: dict) -> None:
    p.rows["eval_answers"].append((data["request_id"], int(data["choice_rank"]), data["mentor_id"], "expired", at))


def _matched(p: Prepared, event_id, at: datetime, data: dict) -> None:
    p.rows["eval_matches"].append((data["match_id"], data.get("request_id"), _program(data), at))


def _started(p: Prepared, event_id, at: datetime, data: dict) -> None:
    p.rows["eval_relationships"].append(
        (
            data["relationship_id"],
            data.get("match_id"),
            _program(data),
            SEPARATOR.join(data["mentee_ids"]),
            date.fromisoformat(data["started_on"]),
        )
    )


def _milestone(kind: str, field: str):
    def rule(p: Prepared, event_id, at: datetime, data: dict) -> None:
        key, on = (data["relationship_id"], kind), date.fromisoformat(data[field])
        if key not in p.milestones or on < p.milestones[key]:
            p.milestones[key] = on

    return rule


RULES = by_type(
    {
        WorkerHired: _record,
        WorkerUpdated: _record,
        WorkerPromoted: _promoted,
        MentorRegistered: _registered,
        MenteeRegistered: _registered,
        RequestRanked: _ranked,
        RequestForwarded: _forwarded,
        MentorResponded: _responded,
        RequestExpired: _expired,
        MatchApproved: _matched,
        RelationshipStarted: _started,
        AgreementSigned: _milestone("signed", "signed_on"),
        MeetingLogged: _milestone("meeting", "held_on"),
    }
)


def prepare(events: Sequence[EnvelopeRecord]) -> Prepared:
    """The batch's evaluation facts (no I/O: the projector runs this ahead)."""
    prepared = Prepared({table: [] for table in [*COLUMNS, "eval_relationships"]}, {}, {})
    apply_rules(
        events,
        RULES,
        lambda rule, envelope, data: rule(prepared, envelope.id, envelope.time, data),
        log,
        "not projectable into evaluation facts; skipped",
    )
    return prepared


async def write(conn: asyncpg.Connection, schema: str, prepared: Prepared) -> None:
    for table, columns in COLUMNS.items():
        await insert_new(conn, schema, table, columns, prepared.rows[table])
    if relationships := prepared.rows["eval_relationships"]:
        params, args = unnest_arguments(
            ("text", "text", "text", "text", "date"), list(zip(*relationships, strict=True))
        )
        await conn.execute(
            f"""INSERT INTO {schema}.eval_relationships (relationship_id, match_id, program_id, mentee_ids, started_on)
                SELECT r, m, p, string_to_array(ids, chr(31)), s
                FROM unnest({params}) AS u(r, m, p, ids, s)
                ON CONFLICT DO NOTHING""",
            *args,
        )
    if prepared.people:
        params, args = unnest_arguments(("text", "text"), list(zip(*prepared.people.items(), strict=True)))
        await conn.execute(
            f"""INSERT INTO {schema}.eval_people AS p (participant_id, priority_group)
                SELECT * FROM unnest({params})
                ON CONFLICT (participant_id)
                DO UPDATE SET priority_group = coalesce(EXCLUDED.priority_group, p.priority_group)""",
            *args,
        )
    if prepared.milestones:
        keys, days = zip(*prepared.milestones.items(), strict=True)
        params, args = unnest_arguments(("text", "text", "date"), [[k[0] for k in keys], [k[1] for k in keys], days])
        await conn.execute(
            f"""INSERT INTO {schema}.eval_milestones AS m (relationship_id, kind, on_date)
                SELECT * FROM unnest({params})
                ON CONFLICT (relationship_id, kind) DO UPDATE SET on_date = least(m.on_date, EXCLUDED.on_date)""",
            *args,
        )


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))
