-- Matching's own copy of the mentors it may offer, built from profiles events.
CREATE TABLE mentor_directory (
    mentor_id      text PRIMARY KEY,
    name           text NOT NULL,
    specialty      text NOT NULL,
    interests      text[] NOT NULL,
    career_stage   text NOT NULL,
    languages      text[] NOT NULL,
    time_zone      text NOT NULL,
    biography      text NOT NULL,
    capacity       integer NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    registered_at  timestamptz NOT NULL,
    source_event   uuid NOT NULL
);
