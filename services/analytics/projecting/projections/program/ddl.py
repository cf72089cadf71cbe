"""The program-evaluation tables: their DDL, and the columns and defaults the fold writes."""

from __future__ import annotations

from services.analytics.projecting.staging import StagedTable

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
    withdrawn   boolean NOT NULL DEFAULT false,
    program_id  text  -- from the request's or the match's events (version 1 upcast: "default")
) WITH (fillfactor = 50);
CREATE TABLE {schema}.program_relationships (
    relationship_id text PRIMARY KEY,
    mentor_id       text,  -- none for a peer circle
    program_id      text NOT NULL DEFAULT 'default',
    model           text,
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
-- Programs: every program id an event names (the built-in "default" among them), with the name and model
-- its ProgramDefined / ProgramChanged gave it.  Who belongs to a program: whoever enrolled in it, asked for
-- a mentor in it, was matched or started a relationship or group in it (kept after an unenrolment: they
-- took part).  A group or peer circle formed (GroupFormed) is a row of program_groups.
CREATE TABLE {schema}.programs (
    program_id  text PRIMARY KEY,
    name        text,
    model       text,
    first_seen  timestamptz NOT NULL
) WITH (fillfactor = 70);
CREATE TABLE {schema}.program_members (
    program_id     text NOT NULL,
    participant_id text NOT NULL,
    PRIMARY KEY (program_id, participant_id)
);
CREATE TABLE {schema}.program_groups (
    match_id   text PRIMARY KEY,
    program_id text NOT NULL,
    model      text,
    mentors    integer NOT NULL,
    mentees    integer NOT NULL,
    formed_at  timestamptz NOT NULL
);
"""


def participants() -> StagedTable:
    return StagedTable(
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


def requests() -> StagedTable:
    return StagedTable(
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
            "program_id": "text",
        },
        {
            "mentee_id": None,
            "ranked_at": None,
            "approved": None,
            "matched_at": None,
            "choice_rank": None,
            "unmatched": False,
            "withdrawn": False,
            "program_id": None,
        },
    )


def relationships() -> StagedTable:
    return StagedTable(
        "program_relationships",
        "relationship_id",
        {
            "relationship_id": "text",
            "mentor_id": "text",
            "program_id": "text",
            "model": "text",
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
            "program_id": "default",
            "model": None,
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


def programs() -> StagedTable:
    return StagedTable(
        "programs",
        "program_id",
        {"program_id": "text", "name": "text", "model": "text", "first_seen": "timestamptz"},
        {"name": None, "model": None},
    )


MEMBER_COLUMNS = {"program_id": "text", "participant_id": "text"}
GROUP_COLUMNS = {
    "match_id": "text",
    "program_id": "text",
    "model": "text",
    "mentors": "integer",
    "mentees": "integer",
    "formed_at": "timestamptz",
}

ANSWER_COLUMNS = {
    "event_id": "uuid",
    "relationship_id": "text",
    "respondent_role": "text",
    "satisfaction": "integer",
    "goals_met": "boolean",
    "would_recommend": "boolean",
    "answered_at": "timestamptz",
}


def tables() -> dict[str, StagedTable]:
    """Fresh (empty) tables for one batch, by the name the rules use."""
    return {
        "participants": participants(),
        "requests": requests(),
        "relationships": relationships(),
        "programs": programs(),
    }
