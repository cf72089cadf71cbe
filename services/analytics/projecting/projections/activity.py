"""Dated program activity: when each role began and ended, relationships' spans, meetings, lagging
spells and mentor capacity over time, so figures can be computed "as at the end of each month".

Every table is either append-only (one row per fact, keyed by the fact) or folded with
order-free rules (earliest registration, first non-null value), so the rows are the same
whatever order the streams arrive in.  A lagging spell is not stored: it starts at a
``RelationshipLagging`` and ends at the next ``MeetingLogged`` or ``RelationshipClosed``,
which the queries find from the dated facts.  ``activity_horizon`` keeps the latest event
time seen: the "now" of this generation (an as-of build's cut), so figures never depend on
the wall clock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime

import asyncpg

from services.analytics.projecting import binary_copy
from services.analytics.projecting.copying import copy_new, insert_new, unnest_arguments
from services.analytics.projecting.projections.catalog import apply_rules, by_type
from shared.envelope import EnvelopeRecord
from shared.events.profiles import (
    MenteeRegistered,
    MentorCapacityChanged,
    MentorRegistered,
    ParticipantDeactivated,
    ParticipantReactivated,
)
from shared.events.relationships import (
    AgreementSigned,
    MeetingLogged,
    RelationshipClosed,
    RelationshipLagging,
    RelationshipStarted,
)
from shared.logging import get_logger

log = get_logger(__name__)

DDL = """
CREATE TABLE {schema}.activity_roles (
    participant_id text NOT NULL,
    role           text NOT NULL,
    registered_on  date NOT NULL,
    employee_id    text,
    PRIMARY KEY (participant_id, role)
);
-- Leaving (ParticipantDeactivated, reason left_institution) and coming back (ParticipantReactivated):
-- whether someone is present on a day is the latest of these facts effective by then.
CREATE TABLE {schema}.activity_presence (
    event_id       uuid PRIMARY KEY,
    participant_id text        NOT NULL,
    effective_on   date        NOT NULL,
    present        boolean     NOT NULL,
    at             timestamptz NOT NULL
);
CREATE INDEX ON {schema}.activity_presence (participant_id);
CREATE TABLE {schema}.activity_capacity (
    event_id       uuid PRIMARY KEY,
    participant_id text        NOT NULL,
    capacity       integer     NOT NULL,
    at             timestamptz NOT NULL
);
CREATE INDEX ON {schema}.activity_capacity (participant_id);
CREATE TABLE {schema}.activity_relationships (
    relationship_id text PRIMARY KEY,
    mentor_id       text,
    mentee_ids      text[],
    started_on      date,
    signed_on       date,
    cadence_weeks   integer,
    closed_on       date,
    closed_at       timestamptz
) WITH (fillfactor = 70);  -- filled in by three events: room to update in place
CREATE TABLE {schema}.activity_meetings (
    relationship_id text        NOT NULL,
    meeting_id      text        NOT NULL,
    held_on         date        NOT NULL,
    logged_at       timestamptz NOT NULL,
    PRIMARY KEY (relationship_id, meeting_id)
);
CREATE TABLE {schema}.activity_lagging (
    event_id        uuid PRIMARY KEY,
    relationship_id text        NOT NULL,
    lagging_at      timestamptz NOT NULL
);
CREATE INDEX ON {schema}.activity_relationships (mentor_id);
CREATE TABLE {schema}.activity_horizon (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    latest    timestamptz NOT NULL
);
"""


class _Batch:
    def __init__(self) -> None:
        self.roles: dict[tuple[str, str], list] = {}
        self.presence: list[tuple] = []
        self.capacity: list[tuple] = []
        self.relationships: dict[str, dict] = {}
        self.meetings: list[tuple] = []
        self.lagging: list[tuple] = []
        self.latest: datetime | None = None
        self.meetings_encoded: bytes | None = None

    def role(self, data: dict, at: datetime, event_id, role: str) -> None:
        key = (data["participant_id"], role)
        registered_on, employee_id = _utc_date(at), data.get("employee_id")
        known = self.roles.get(key)
        if known:
            registered_on, employee_id = min(known[0], registered_on), employee_id or known[1]
        self.roles[key] = [registered_on, employee_id]
        if role == "mentor":
            self.capacity.append((event_id, data["participant_id"], int(data.get("capacity", 0)), at))

    def relationship(self, relationship_id: str, **values) -> None:
        row = self.relationships.setdefault(relationship_id, {})
        row.update({k: v for k, v in values.items() if v is not None})


def _mentor(b: _Batch, data, at, event_id) -> None:
    b.role(data, at, event_id, "mentor")


def _mentee(b: _Batch, data, at, event_id) -> None:
    b.role(data, at, event_id, "mentee")


def _capacity(b: _Batch, data, at, event_id) -> None:
    b.capacity.append((event_id, data["participant_id"], int(data["new_capacity"]), at))


def _deactivated(b: _Batch, data, at, event_id) -> None:
    if data["reason"] == "left_institution":
        b.presence.append((event_id, data["participant_id"], date.fromisoformat(data["effective_date"]), False, at))


def _reactivated(b: _Batch, data, at, event_id) -> None:
    b.presence.append((event_id, data["participant_id"], date.fromisoformat(data["effective_date"]), True, at))


def _started(b: _Batch, data, at, event_id) -> None:
    b.relationship(
        data["relationship_id"],
        mentor_id=data.get("mentor_id"),  # none for a peer circle
        mentee_ids=json.dumps(list(data["mentee_ids"])),
        started_on=date.fromisoformat(data["started_on"]),
    )


def _signed(b: _Batch, data, at, event_id) -> None:
    b.relationship(
        data["relationship_id"],
        signed_on=date.fromisoformat(data["signed_on"]),
        cadence_weeks=int(data.get("cadence_weeks_max", 8)),
    )


def _closed(b: _Batch, data, at, event_id) -> None:
    b.relationship(data["relationship_id"], closed_on=date.fromisoformat(data["closed_on"]), closed_at=at)


def _meeting(b: _Batch, data, at, event_id) -> None:
    b.meetings.append((data["relationship_id"], data["meeting_id"], date.fromisoformat(data["held_on"]), at))


def _lagging(b: _Batch, data, at, event_id) -> None:
    b.lagging.append((event_id, data["relationship_id"], at))


RULES = by_type(
    {
        MentorRegistered: _mentor,
        MenteeRegistered: _mentee,
        MentorCapacityChanged: _capacity,
        ParticipantDeactivated: _deactivated,
        ParticipantReactivated: _reactivated,
        RelationshipStarted: _started,
        AgreementSigned: _signed,
        RelationshipClosed: _closed,
        MeetingLogged: _meeting,
        RelationshipLagging: _lagging,
    }
)
_PRESENCE_COLUMNS = {
    "event_id": "uuid",
    "participant_id": "text",
    "effective_on": "date",
    "present": "boolean",
    "at": "timestamptz",
}
_CAPACITY_COLUMNS = {"event_id": "uuid", "participant_id": "text", "capacity": "integer", "at": "timestamptz"}
_LAGGING_COLUMNS = {"event_id": "uuid", "relationship_id": "text", "lagging_at": "timestamptz"}
_MEETING_COLUMNS = ("relationship_id", "meeting_id", "held_on", "logged_at")
_MEETING_TYPES = ("text", "text", "date", "timestamptz")
_RELATIONSHIP_COLUMNS = (
    "mentor_id",
    "mentee_ids",
    "started_on",
    "signed_on",
    "cadence_weeks",
    "closed_on",
    "closed_at",
)
_RELATIONSHIP_TYPES = ("text", "text", "date", "date", "integer", "date", "timestamptz")


def prepare(events: Sequence[EnvelopeRecord]) -> _Batch:
    """The batch's dated facts (no I/O: the projector runs this ahead)."""
    batch = _Batch()
    apply_rules(
        events,
        RULES,
        lambda rule, envelope, data: rule(batch, data, envelope.time, envelope.id),
        log,
        "event not projectable into activity facts; skipped",
    )
    batch.latest = max((e.time for e in events), default=None)
    if batch.meetings:  # nearly half of all events: encoded here, and only the bytes are kept
        batch.meetings_encoded = binary_copy.encode(_MEETING_TYPES, batch.meetings)
        batch.meetings = []
    return batch


async def write(conn: asyncpg.Connection, schema: str, batch: _Batch) -> None:
    """Facts keyed by themselves: a copy already stored (or twice in the batch) is left out."""
    if batch.latest is not None:
        await conn.execute(
            f"INSERT INTO {schema}.activity_horizon (latest) VALUES ($1) ON CONFLICT (singleton)"
            f" DO UPDATE SET latest = greatest({schema}.activity_horizon.latest, EXCLUDED.latest)",
            batch.latest,
        )
    await _write_roles(conn, schema, batch.roles)
    await _write_relationships(conn, schema, batch.relationships)
    await insert_new(conn, schema, "activity_presence", _PRESENCE_COLUMNS, batch.presence)
    await insert_new(conn, schema, "activity_capacity", _CAPACITY_COLUMNS, batch.capacity)
    await insert_new(conn, schema, "activity_lagging", _LAGGING_COLUMNS, batch.lagging)
    if batch.meetings_encoded:
        await copy_new(conn, schema, "activity_meetings", _MEETING_COLUMNS, batch.meetings_encoded)


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))


async def _write_roles(conn: asyncpg.Connection, schema: str, roles: dict) -> None:
    if roles:
        keys = list(roles)
        params, args = unnest_arguments(
            ("text", "text", "date", "text"),
            [[k[0] for k in keys], [k[1] for k in keys], [roles[k][0] for k in keys], [roles[k][1] for k in keys]],
        )
        await conn.execute(
            f"""INSERT INTO {schema}.activity_roles AS r
                SELECT * FROM unnest({params})
                ON CONFLICT (participant_id, role) DO UPDATE SET
                    registered_on = least(r.registered_on, EXCLUDED.registered_on),
                    employee_id = coalesce(EXCLUDED.employee_id, r.employee_id)""",
            *args,
        )


async def _write_relationships(conn: asyncpg.Connection, schema: str, relationships: dict[str, dict]) -> None:
    """Each event fills its own columns; a column once known keeps its value (events never contradict)."""
    if not relationships:
        return
    ids = list(relationships)
    params, args = unnest_arguments(
        ("text", *_RELATIONSHIP_TYPES), [ids, *([relationships[i].get(c) for i in ids] for c in _RELATIONSHIP_COLUMNS)]
    )
    names = ", ".join(_RELATIONSHIP_COLUMNS)
    await conn.execute(
        f"""INSERT INTO {schema}.activity_relationships AS r (relationship_id, {names})
            SELECT id, mentor_id, CASE WHEN mentee_ids IS NOT NULL
                   THEN ARRAY(SELECT jsonb_array_elements_text(mentee_ids::jsonb)) END, started_on, signed_on,
                   cadence_weeks, closed_on, closed_at
            FROM unnest({params}) AS u(id, {names})
            ON CONFLICT (relationship_id) DO UPDATE SET
            {", ".join(f"{c} = coalesce(EXCLUDED.{c}, r.{c})" for c in _RELATIONSHIP_COLUMNS)}""",
        *args,
    )


def _utc_date(at: datetime) -> date:
    return at.astimezone(UTC).date()
