-- Scheduled meetings: one row per meeting stream, rewritten by the meeting repository's commit hook.
CREATE TABLE scheduled_meetings (
    meeting_id       text PRIMARY KEY,
    relationship_id  text NOT NULL,
    version          integer NOT NULL,
    status           text NOT NULL,
    proposed_by      text NOT NULL,
    organizer_id     text NOT NULL,
    candidates       timestamptz[] NOT NULL,
    duration_minutes integer NOT NULL,
    starts_at        timestamptz,
    ends_at          timestamptz,
    sequence         integer NOT NULL,
    agenda           jsonb NOT NULL,
    format           text NOT NULL
);
CREATE INDEX scheduled_meetings_relationship ON scheduled_meetings (relationship_id, status);

-- Each person's time zone (from profiles' events) and weekly availability windows (set by them here).
CREATE TABLE scheduling_calendars (
    person_id  text PRIMARY KEY,
    time_zone  text NOT NULL DEFAULT 'UTC',
    windows    jsonb NOT NULL DEFAULT '[]'
);
