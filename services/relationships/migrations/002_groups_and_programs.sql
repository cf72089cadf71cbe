-- Issue 17: relationships belong to a program; groups have co-mentors; a peer circle has no mentor; members
-- of a group or circle may leave it (left_ids: everyone who left, kept for subject access and erasure).
ALTER TABLE relationship_view
    ADD COLUMN program_id    text NOT NULL DEFAULT 'default',
    ADD COLUMN co_mentor_ids text[] NOT NULL DEFAULT '{}',
    ADD COLUMN left_ids      text[] NOT NULL DEFAULT '{}',
    ALTER COLUMN mentor_id DROP NOT NULL;
CREATE INDEX relationship_view_program ON relationship_view (program_id);
CREATE INDEX relationship_view_co_mentors ON relationship_view USING gin (co_mentor_ids);

-- The terms of each program relationships applies (from matching's ProgramDefined / ProgramChanged).
-- The built-in program 'default' has no row: its terms are the code's (domain/program.py).
CREATE TABLE program_terms (
    program_id             text PRIMARY KEY,
    model                  text NOT NULL,
    cadence_weeks_min      integer NOT NULL,
    cadence_weeks_max      integer NOT NULL,
    review_interval_months integer NOT NULL,
    inactivity_days        integer NOT NULL,
    updated_at             timestamptz NOT NULL DEFAULT now()
);
