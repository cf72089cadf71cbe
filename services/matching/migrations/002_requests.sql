-- Matching's own copies of what it needs from profiles, HR and relationships, and its request and bulk-run views.
ALTER TABLE mentor_directory
    ADD COLUMN department text,
    ADD COLUMN formats text[] NOT NULL DEFAULT '{video}',
    ADD COLUMN accepting_requests boolean NOT NULL DEFAULT true;

CREATE TABLE mentees (
    mentee_id     text PRIMARY KEY,
    name          text NOT NULL,
    specialty     text NOT NULL,
    interests     text[] NOT NULL,
    career_stage  text NOT NULL,
    languages     text[] NOT NULL,
    time_zone     text NOT NULL,
    department    text,
    active        boolean NOT NULL DEFAULT true,
    registered_at timestamptz NOT NULL
);

-- Participant → HR employee id, and HR employee → supervisor (the reporting line).
CREATE TABLE participant_employees (
    participant_id text PRIMARY KEY,
    employee_id    text NOT NULL
);
CREATE INDEX participant_employees_employee ON participant_employees (employee_id);

CREATE TABLE hr_supervisors (
    employee_id    text PRIMARY KEY,
    supervisor_id  text,
    effective_date date NOT NULL,
    recorded_at    timestamptz NOT NULL
);

-- A mentor's active load is the count of their rows here; capacity checks lock the mentor's directory row.
CREATE TABLE active_pairs (
    mentor_id text NOT NULL,
    mentee_id text NOT NULL,
    match_id  text NOT NULL,
    since     timestamptz NOT NULL,
    PRIMARY KEY (mentor_id, mentee_id)
);
CREATE INDEX active_pairs_mentee ON active_pairs (mentee_id);

CREATE TABLE requests (
    request_id        text PRIMARY KEY,
    version           integer NOT NULL,
    mentee_id         text NOT NULL,
    status            text NOT NULL,
    origin            text NOT NULL,
    ranked_mentor_ids text[] NOT NULL,
    biography         text NOT NULL,
    motivation        text NOT NULL,
    choice_rank       integer,
    mentor_id         text,
    respond_by        timestamptz,
    forwarded_to      text[] NOT NULL,
    decline_reason    text,
    matched_mentor_id text,
    submitted_at      timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
-- At most one open request per mentee, even when two submissions race.
CREATE UNIQUE INDEX requests_one_open_per_mentee ON requests (mentee_id) WHERE status IN ('submitted', 'forwarded');
CREATE INDEX requests_mentor ON requests (mentor_id) WHERE status = 'forwarded';
CREATE INDEX requests_status ON requests (status, submitted_at);

CREATE TABLE program_settings (
    program_id    text PRIMARY KEY,
    weights       jsonb NOT NULL,
    response_days integer NOT NULL
);

CREATE TABLE bulk_runs (
    run_id       text PRIMARY KEY,
    mode         text NOT NULL,
    cohort       text NOT NULL,
    status       text NOT NULL,
    requested_by text NOT NULL,
    summary      jsonb NOT NULL,
    report       jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    decided_by   text,
    decided_at   timestamptz
);

CREATE TABLE bulk_run_pairs (
    run_id      text NOT NULL REFERENCES bulk_runs ON DELETE CASCADE,
    mentee_id   text NOT NULL,
    mentor_id   text NOT NULL,
    score       integer NOT NULL,
    choice_rank integer,
    pinned      boolean NOT NULL,
    PRIMARY KEY (run_id, mentee_id)
);
