"""Program-evaluation facts: one row per participant, request, relationship and survey answer.

Figures (match rate, time to match, lagging, closures, satisfaction…) are
computed from these rows at query time, so any filter or breakdown works on
the same facts.  Only coarse attributes are kept (department, cohort month);
no names, addresses or free text.
"""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from shared.envelope import Envelope

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
);
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
);
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
);
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


async def apply(conn: asyncpg.Connection, schema: str, envelope: Envelope) -> None:
    """Called once per event: the projector records projected event ids in the same transaction."""
    handler = _HANDLERS.get(envelope.type)
    if handler is not None:
        await handler(conn, schema, envelope.data, envelope.time, envelope.id)


async def _registered(conn, schema, data, at: datetime, role: str) -> None:
    department = (data.get("profile") or {}).get("department")
    await conn.execute(
        f"""INSERT INTO {schema}.participants (participant_id, is_{role}, department, cohort, registered_at, capacity)
            VALUES ($1, true, $2, $3, $4, $5)
            ON CONFLICT (participant_id) DO UPDATE SET is_{role} = true,
                department = coalesce(EXCLUDED.department, {schema}.participants.department),
                capacity = greatest({schema}.participants.capacity, EXCLUDED.capacity)""",
        data["participant_id"], department, at.strftime("%Y-%m"), at, data.get("capacity", 0),
    )


async def _mentor(conn, schema, data, at, event_id) -> None:
    await _registered(conn, schema, data, at, "mentor")


async def _mentee(conn, schema, data, at, event_id) -> None:
    await _registered(conn, schema, data, at, "mentee")


async def _capacity(conn, schema, data, at, event_id) -> None:
    await conn.execute(f"UPDATE {schema}.participants SET capacity = $2 WHERE participant_id = $1",
                       data["participant_id"], data["new_capacity"])


async def _deactivated(conn, schema, data, at, event_id) -> None:
    if data.get("reason") == "left_institution":
        await conn.execute(f"UPDATE {schema}.participants SET left_on = $2 WHERE participant_id = $1",
                           data["participant_id"], date.fromisoformat(data["effective_date"]))


async def _reactivated(conn, schema, data, at, event_id) -> None:
    await conn.execute(f"UPDATE {schema}.participants SET left_on = NULL WHERE participant_id = $1",
                       data["participant_id"])


async def _upsert_request(conn, schema, request_id: str, **values) -> None:
    columns = list(values)
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    placeholders = ", ".join(f"${i + 2}" for i in range(len(columns)))
    await conn.execute(
        f"INSERT INTO {schema}.requests (request_id, {', '.join(columns)}) VALUES ($1, {placeholders})"
        f" ON CONFLICT (request_id) DO UPDATE SET {assignments}",
        request_id, *values.values(),
    )


async def _ranked(conn, schema, data, at, event_id) -> None:
    await _upsert_request(conn, schema, data["request_id"], mentee_id=data["mentee_id"], ranked_at=at)


async def _reviewed(conn, schema, data, at, event_id) -> None:
    await _upsert_request(conn, schema, data["request_id"], approved=data["approved"])


async def _unmatched(conn, schema, data, at, event_id) -> None:
    await _upsert_request(conn, schema, data["request_id"], mentee_id=data["mentee_id"], unmatched=True)


async def _withdrawn(conn, schema, data, at, event_id) -> None:
    await _upsert_request(conn, schema, data["request_id"], mentee_id=data["mentee_id"], withdrawn=True)


async def _matched(conn, schema, data, at, event_id) -> None:
    if data.get("request_id"):
        await _upsert_request(conn, schema, data["request_id"], mentee_id=data["mentee_id"], matched_at=at,
                              choice_rank=data.get("choice_rank"))


async def _started(conn, schema, data, at, event_id) -> None:
    await conn.execute(
        f"INSERT INTO {schema}.program_relationships (relationship_id, mentor_id, mentee_ids, started_on)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        data["relationship_id"], data["mentor_id"], data["mentee_ids"], date.fromisoformat(data["started_on"]),
    )


async def _signed(conn, schema, data, at, event_id) -> None:
    await conn.execute(
        f"UPDATE {schema}.program_relationships SET signed_on = $2, cadence_weeks = $3,"
        f" goals_set = goals_set + $4 WHERE relationship_id = $1",
        data["relationship_id"], date.fromisoformat(data["signed_on"]), data["cadence_weeks_max"],
        len(data.get("goals") or []),
    )


async def _relationship_update(conn, schema, relationship_id: str, assignments: str, *args) -> None:
    await conn.execute(f"UPDATE {schema}.program_relationships SET {assignments} WHERE relationship_id = $1",
                       relationship_id, *args)


async def _meeting(conn, schema, data, at, event_id) -> None:
    await _relationship_update(conn, schema, data["relationship_id"], "meetings = meetings + 1, lagging = false")


async def _lagging(conn, schema, data, at, event_id) -> None:
    await _relationship_update(conn, schema, data["relationship_id"],
                               "lagging = true, lagging_spells = lagging_spells + 1")


async def _goal_set(conn, schema, data, at, event_id) -> None:
    await _relationship_update(conn, schema, data["relationship_id"], "goals_set = goals_set + 1")


async def _goal_progressed(conn, schema, data, at, event_id) -> None:
    if data.get("status") == "achieved":
        await _relationship_update(conn, schema, data["relationship_id"], "goals_achieved = goals_achieved + 1")


async def _closed(conn, schema, data, at, event_id) -> None:
    await _relationship_update(conn, schema, data["relationship_id"], "closed_on = $2, closure_reason = $3,"
                               " lagging = false", date.fromisoformat(data["closed_on"]), data["reason"])


async def _feedback(conn, schema, data, at, event_id) -> None:
    await conn.execute(
        f"INSERT INTO {schema}.survey_answers VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        event_id, data.get("relationship_id"), data["respondent_role"], data["satisfaction"],
        data["goals_met"], data["would_recommend"], at,
    )


_HANDLERS = {
    "MentorRegistered": _mentor, "MenteeRegistered": _mentee, "MentorCapacityChanged": _capacity,
    "ParticipantDeactivated": _deactivated, "ParticipantReactivated": _reactivated,
    "RequestRanked": _ranked, "RequestReviewed": _reviewed, "RequestUnmatched": _unmatched,
    "RequestWithdrawn": _withdrawn, "MatchApproved": _matched,
    "RelationshipStarted": _started, "AgreementSigned": _signed, "MeetingLogged": _meeting,
    "RelationshipLagging": _lagging, "GoalSet": _goal_set, "GoalProgressed": _goal_progressed,
    "RelationshipClosed": _closed, "FeedbackSubmitted": _feedback,
}
