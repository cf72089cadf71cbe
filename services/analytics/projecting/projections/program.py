"""Program-evaluation facts: one row per participant, request, relationship and survey answer.

Figures (match rate, time to match, lagging, closures, satisfaction…) are
computed from these rows at query time, so any filter or breakdown works on
the same facts.  Only coarse attributes are kept (department, cohort month);
no names, addresses or free text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple

import asyncpg

from services.analytics.projecting import binary_copy
from services.analytics.projecting.copying import insert_new
from shared.envelope import EnvelopeRecord
from shared.logging import get_logger

log = get_logger(__name__)

DDL = """
CREATE TABLE {schema}.participants (
    participant_id text PRIMARY KEY,
    is_mentor      boolean NOT NULL DEFAULT false,
    is_mentee      boolean NOT NULL DEFAULT false,
    department     text,
    cohort         text    NOT NULL,
    registered_at  timestamptz NOT NULL,
    capacity       integer NOT NULL DEFAULT 0,
    left_on        date
) WITH (fillfactor = 70);
-- Rows are rewritten by later events (a relationship by each meeting): room left on each page lets
-- Postgres update in place (HOT, no index entry) instead of moving the row, which bloated the
-- tables and made a replay's batches slower the longer it ran.
-- Request facts arrive from two streams (request and match) in no guaranteed order: every
-- handler upserts, and a column stays null until the event that knows it arrives.
CREATE TABLE {schema}.requests (
    request_id  text PRIMARY KEY,
    mentee_id   text,
    ranked_at   timestamptz,
    approved    boolean,
    matched_at  timestamptz,
    choice_rank integer,
    unmatched   boolean NOT NULL DEFAULT false,
    withdrawn   boolean NOT NULL DEFAULT false
) WITH (fillfactor = 50);
CREATE TABLE {schema}.program_relationships (
    relationship_id text PRIMARY KEY,
    mentor_id       text NOT NULL,
    mentee_ids      text[] NOT NULL,
    started_on      date NOT NULL,
    signed_on       date,
    cadence_weeks   integer,
    meetings        integer NOT NULL DEFAULT 0,
    lagging         boolean NOT NULL DEFAULT false,
    lagging_spells  integer NOT NULL DEFAULT 0,
    goals_set       integer NOT NULL DEFAULT 0,
    goals_achieved  integer NOT NULL DEFAULT 0,
    closed_on       date,
    closure_reason  text
) WITH (fillfactor = 50);
CREATE TABLE {schema}.survey_answers (
    event_id        uuid PRIMARY KEY,
    relationship_id text,
    respondent_role text NOT NULL,
    satisfaction    integer NOT NULL,
    goals_met       boolean NOT NULL,
    would_recommend boolean NOT NULL,
    answered_at     timestamptz NOT NULL
);
"""


class _Table:
    """The rows of one table the batch touches: loaded on first touch, written back at the end."""

    def __init__(self, name: str, key: str, columns: dict[str, str], defaults: dict[str, object]) -> None:
        self.name, self.key, self.columns, self.defaults = name, key, columns, defaults
        self.rows: dict[str, dict | None] = {}
        self.wanted: list[str] = []
        self.changed: set[str] = set()

    def want(self, key: str) -> None:
        if key not in self.rows:
            self.rows[key] = None
            self.wanted.append(key)

    async def load(self, conn: asyncpg.Connection, schema: str) -> None:
        if self.wanted:
            found = await conn.fetch(
                f"SELECT {', '.join(self.columns)} FROM {schema}.{self.name} WHERE {self.key} = ANY($1::text[])",
                self.wanted,
            )
            self.rows.update((r[self.key], dict(r)) for r in found)
            self.wanted.clear()

    def get(self, key: str) -> dict | None:
        return self.rows[key]

    def create(self, key: str, **values) -> dict:
        row = self.rows[key] = {self.key: key, **self.defaults, **values}
        self.changed.add(key)
        return row

    def touch(self, key: str) -> dict | None:
        row = self.rows[key]
        if row is not None:
            self.changed.add(key)
        return row

    @property
    def stage(self) -> str:
        return f"program_stage_{self.name}"

    def stage_ddl(self) -> str:
        columns = ", ".join(f"{c} {t}" for c, t in self.columns.items())
        return f"CREATE TEMP TABLE IF NOT EXISTS {self.stage} ({columns}) ON COMMIT DELETE ROWS"

    async def write(self, conn: asyncpg.Connection, schema: str) -> None:
        """Binary COPY into a session-local staging table (see ``stage_ddl``), then one upsert from it.

        COPY rather than ``unnest($1::text[], …)`` parameters: asyncpg checks every element of an
        array parameter against the collection ABCs in Python, which cost more than the fold itself;
        encoded by ``binary_copy`` (asyncpg's own COPY encoding checks the ``text[]`` the same way).
        """
        if not self.changed:
            return
        names = list(self.columns)
        stage = self.stage
        rows = [tuple(self.rows[key][c] for c in names) for key in self.changed]
        await binary_copy.copy_encoded(conn, "pg_temp", stage, names, binary_copy.encode(self.columns.values(), rows))
        await conn.execute(
            f"INSERT INTO {schema}.{self.name} ({', '.join(names)}) SELECT {', '.join(names)} FROM {stage}"
            f" ON CONFLICT ({self.key}) DO UPDATE SET"
            f" {', '.join(f'{c} = EXCLUDED.{c}' for c in names if c != self.key)}"
        )


class Prepared(NamedTuple):
    tables: dict[str, _Table]
    folds: list[tuple[str | None, str | None, object]]
    answers: list[tuple]


def prepare(events: Sequence[EnvelopeRecord]) -> Prepared:
    """Each event's change, and the rows they touch (no I/O: the projector runs this ahead)."""
    tables = {"participants": _participants(), "requests": _requests(), "relationships": _relationships()}
    folds, answers = [], []
    for envelope in events:
        rule = _RULES.get(envelope.type)
        if rule is None:
            continue
        table, handler = rule
        try:  # a payload missing what a handler needs fails before any row changes
            key = _KEYS[table](envelope.data) if table else None
            change = handler(envelope.data, envelope.time, envelope.id)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("event not projectable into program facts; skipped", event_id=str(envelope.id), error=repr(exc))
            continue
        if table is None:
            answers.append(change)
        elif key is not None:  # e.g. a match without a request has none
            tables[table].want(key)
            folds.append((table, key, change))
    return Prepared(tables, folds, answers)


async def write(conn: asyncpg.Connection, schema: str, prepared: Prepared) -> None:
    """Load the rows the batch touches, fold its events onto them in order, write each changed row once.

    Folding in Python gives exactly the rows that applying the events one at a time would
    (the same rules: an update to a row that does not exist yet is a no-op, request facts
    upsert), with one read and one write per table instead of statements per event.
    """
    tables, folds, answers = prepared
    for table in tables.values():
        await table.load(conn, schema)
    for table, key, (change, args) in folds:
        change(tables[table], key, *args)
    if changed := [table for table in tables.values() if table.changed]:
        await conn.execute(";".join(table.stage_ddl() for table in changed))  # one round trip for the three
    for table in changed:
        await table.write(conn, schema)
    await insert_new(conn, schema, "survey_answers", _ANSWER_COLUMNS, answers)


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))


def _participants() -> _Table:
    return _Table(
        "participants",
        "participant_id",
        {
            "participant_id": "text",
            "is_mentor": "boolean",
            "is_mentee": "boolean",
            "department": "text",
            "cohort": "text",
            "registered_at": "timestamptz",
            "capacity": "integer",
            "left_on": "date",
        },
        {"is_mentor": False, "is_mentee": False, "department": None, "capacity": 0, "left_on": None},
    )


def _requests() -> _Table:
    return _Table(
        "requests",
        "request_id",
        {
            "request_id": "text",
            "mentee_id": "text",
            "ranked_at": "timestamptz",
            "approved": "boolean",
            "matched_at": "timestamptz",
            "choice_rank": "integer",
            "unmatched": "boolean",
            "withdrawn": "boolean",
        },
        {
            "mentee_id": None,
            "ranked_at": None,
            "approved": None,
            "matched_at": None,
            "choice_rank": None,
            "unmatched": False,
            "withdrawn": False,
        },
    )


def _relationships() -> _Table:
    return _Table(
        "program_relationships",
        "relationship_id",
        {
            "relationship_id": "text",
            "mentor_id": "text",
            "mentee_ids": "text[]",
            "started_on": "date",
            "signed_on": "date",
            "cadence_weeks": "integer",
            "meetings": "integer",
            "lagging": "boolean",
            "lagging_spells": "integer",
            "goals_set": "integer",
            "goals_achieved": "integer",
            "closed_on": "date",
            "closure_reason": "text",
        },
        {
            "signed_on": None,
            "cadence_weeks": None,
            "meetings": 0,
            "lagging": False,
            "lagging_spells": 0,
            "goals_set": 0,
            "goals_achieved": 0,
            "closed_on": None,
            "closure_reason": None,
        },
    )


_ANSWER_COLUMNS = {
    "event_id": "uuid",
    "relationship_id": "text",
    "respondent_role": "text",
    "satisfaction": "integer",
    "goals_met": "boolean",
    "would_recommend": "boolean",
    "answered_at": "timestamptz",
}
_KEYS = {
    "participants": lambda data: data["participant_id"],
    "requests": lambda data: data.get("request_id"),
    "relationships": lambda data: data["relationship_id"],
}

# Each handler reads what it needs from the payload now (so a bad payload is skipped whole) and
# returns the change to make to its row once the batch's rows are loaded: a module-level function
# and its arguments, plain data, so a batch prepared in another process can be sent over whole.


def _registered(role: str):
    def handler(data, at: datetime, event_id):
        department = (data.get("profile") or {}).get("department")
        return _register, (role, department, int(data.get("capacity", 0)), at)

    return handler


def _register(table: _Table, key: str, role: str, department: str | None, capacity: int, at: datetime) -> None:
    row = table.touch(key)
    if row is None:
        table.create(
            key,
            **{f"is_{role}": True},
            department=department,
            cohort=at.strftime("%Y-%m"),
            registered_at=at,
            capacity=capacity,
        )
        return
    row[f"is_{role}"] = True
    row["department"] = department if department is not None else row["department"]
    row["capacity"] = max(row["capacity"], capacity)


def _set(table: _Table, key: str, values: dict) -> None:
    """Set columns of an existing row (nothing when the row does not exist yet)."""
    row = table.touch(key)
    if row is not None:
        row.update(values)


def _capacity(data, at, event_id):
    return _set, ({"capacity": int(data["new_capacity"])},)


def _deactivated(data, at, event_id):
    if data.get("reason") != "left_institution":
        return _NOTHING
    return _set, ({"left_on": date.fromisoformat(data["effective_date"])},)


def _reactivated(data, at, event_id):
    return _set, ({"left_on": None},)


def _upsert(table: _Table, key: str, values: dict) -> None:
    """Request facts: create the row if needed, then set what this event knows."""
    row = table.touch(key) or table.create(key)
    row.update(values)


def _ranked(data, at, event_id):
    return _upsert, ({"mentee_id": data["mentee_id"], "ranked_at": at},)


def _reviewed(data, at, event_id):
    return _upsert, ({"approved": bool(data["approved"])},)


def _unmatched(data, at, event_id):
    return _upsert, ({"mentee_id": data["mentee_id"], "unmatched": True},)


def _withdrawn(data, at, event_id):
    return _upsert, ({"mentee_id": data["mentee_id"], "withdrawn": True},)


def _matched(data, at, event_id):
    return _upsert, ({"mentee_id": data["mentee_id"], "matched_at": at, "choice_rank": data.get("choice_rank")},)


def _started(data, at, event_id):
    return _start, (
        {
            "mentor_id": data["mentor_id"],
            "mentee_ids": list(data["mentee_ids"]),
            "started_on": date.fromisoformat(data["started_on"]),
        },
    )


def _start(table: _Table, key: str, values: dict) -> None:
    if table.get(key) is None:
        table.create(key, **values)


def _signed(data, at, event_id):
    return _sign, (date.fromisoformat(data["signed_on"]), data["cadence_weeks_max"], len(data.get("goals") or []))


def _sign(table: _Table, key: str, signed_on: date, cadence: int, goals: int) -> None:
    if (row := table.touch(key)) is not None:  # a change to a relationship not started yet does nothing
        row.update(signed_on=signed_on, cadence_weeks=cadence, goals_set=row["goals_set"] + goals)


def _meeting(data, at, event_id):
    return _meet, ()


def _meet(table: _Table, key: str) -> None:
    if (row := table.touch(key)) is not None:
        row.update(meetings=row["meetings"] + 1, lagging=False)


def _lagging(data, at, event_id):
    return _lag, ()


def _lag(table: _Table, key: str) -> None:
    if (row := table.touch(key)) is not None:
        row.update(lagging=True, lagging_spells=row["lagging_spells"] + 1)


def _goal_set(data, at, event_id):
    return _count, ("goals_set",)


def _goal_progressed(data, at, event_id):
    if data.get("status") != "achieved":
        return _NOTHING
    return _count, ("goals_achieved",)


def _count(table: _Table, key: str, column: str) -> None:
    if (row := table.touch(key)) is not None:
        row[column] += 1


def _closed(data, at, event_id):
    return _set, (
        {"closed_on": date.fromisoformat(data["closed_on"]), "closure_reason": data["reason"], "lagging": False},
    )


def _feedback(data, at, event_id):
    return (
        event_id,
        data.get("relationship_id"),
        data["respondent_role"],
        int(data["satisfaction"]),
        bool(data["goals_met"]),
        bool(data["would_recommend"]),
        at,
    )


def _nothing(table: _Table, key: str) -> None:
    pass


_NOTHING = (_nothing, ())


_RULES = {
    "MentorRegistered": ("participants", _registered("mentor")),
    "MenteeRegistered": ("participants", _registered("mentee")),
    "MentorCapacityChanged": ("participants", _capacity),
    "ParticipantDeactivated": ("participants", _deactivated),
    "ParticipantReactivated": ("participants", _reactivated),
    "RequestRanked": ("requests", _ranked),
    "RequestReviewed": ("requests", _reviewed),
    "RequestUnmatched": ("requests", _unmatched),
    "RequestWithdrawn": ("requests", _withdrawn),
    "MatchApproved": ("requests", _matched),
    "RelationshipStarted": ("relationships", _started),
    "AgreementSigned": ("relationships", _signed),
    "MeetingLogged": ("relationships", _meeting),
    "RelationshipLagging": ("relationships", _lagging),
    "GoalSet": ("relationships", _goal_set),
    "GoalProgressed": ("relationships", _goal_progressed),
    "RelationshipClosed": ("relationships", _closed),
    "FeedbackSubmitted": (None, _feedback),
}
