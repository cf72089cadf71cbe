-- Issue 17: programs as data, enrolments, per-program requests and slots, groups and peer circles.

-- The programs' view (the Program aggregate's settings as of its last event); "default" has a row only once changed.
CREATE TABLE programs (
    program_id      text PRIMARY KEY,
    version         integer NOT NULL,
    name            text NOT NULL,
    model           text NOT NULL,
    matching_mode   text NOT NULL,
    priority_groups text[] NOT NULL DEFAULT '{}',
    settings        jsonb NOT NULL,
    defined_at      timestamptz NOT NULL,
    changed_at      timestamptz NOT NULL
);

-- Who is enrolled in which program; a mentor's capacity here (NULL: their shared capacity).
CREATE TABLE enrolments (
    program_id     text NOT NULL,
    participant_id text NOT NULL,
    role           text NOT NULL,
    capacity       integer,
    enrolled_on    timestamptz NOT NULL,
    PRIMARY KEY (program_id, participant_id)
);
CREATE INDEX enrolments_participant ON enrolments (participant_id);

-- What eligibility reads of a person besides the profile columns: the priority group, HR attributes.
ALTER TABLE mentees ADD COLUMN priority_group text;
ALTER TABLE mentor_directory ADD COLUMN priority_group text;
CREATE TABLE hr_attributes (
    employee_id    text PRIMARY KEY,
    attributes     jsonb NOT NULL,
    effective_date date NOT NULL,
    recorded_at    timestamptz NOT NULL
);

-- Requests per program: one open request per mentee *per program*.
ALTER TABLE requests ADD COLUMN program_id text NOT NULL DEFAULT 'default';
DROP INDEX requests_one_open_per_mentee;
CREATE UNIQUE INDEX requests_one_open_per_mentee_program ON requests (mentee_id, program_id)
    WHERE status IN ('submitted', 'forwarded');

-- Slots per program; a group's rows (one per mentee) count as one slot of each of its mentors.
ALTER TABLE active_pairs ADD COLUMN program_id text NOT NULL DEFAULT 'default';
ALTER TABLE active_pairs ADD COLUMN grouped boolean NOT NULL DEFAULT false;
CREATE INDEX active_pairs_mentee_program ON active_pairs (mentee_id, program_id);

-- Groups and peer circles (members of each), so a peer is in one circle per program and closures free them.
CREATE TABLE group_members (
    match_id       text NOT NULL,
    program_id     text NOT NULL,
    participant_id text NOT NULL,
    role           text NOT NULL,
    PRIMARY KEY (match_id, participant_id)
);
CREATE INDEX group_members_participant ON group_members (participant_id, program_id);

ALTER TABLE bulk_runs ADD COLUMN program_id text NOT NULL DEFAULT 'default';
CREATE TABLE bulk_run_circles (
    run_id     text NOT NULL REFERENCES bulk_runs ON DELETE CASCADE,
    circle     integer NOT NULL,
    member_ids text[] NOT NULL,
    score      integer NOT NULL,
    PRIMARY KEY (run_id, circle)
);

-- A mentor's capacity in a program: their capacity there if they set one, else their shared capacity.
CREATE FUNCTION mentor_capacity(mentor text, program text) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT e.capacity FROM enrolments e
          WHERE e.program_id = program AND e.participant_id = mentor AND e.role = 'mentor'),
        (SELECT d.capacity FROM mentor_directory d WHERE d.mentor_id = mentor))
$$;

-- The slots a mentor uses against that capacity: in the program when it has its own capacity there, else in
-- every program without one of its own.  A one-to-one pair is a slot; a group is one slot however many mentees.
CREATE FUNCTION mentor_load(mentor text, program text) RETURNS integer LANGUAGE sql STABLE AS $$
    WITH own AS (
        SELECT e.program_id FROM enrolments e
         WHERE e.participant_id = mentor AND e.role = 'mentor' AND e.capacity IS NOT NULL
    ), counted AS (
        SELECT p.* FROM active_pairs p
         WHERE p.mentor_id = mentor
           AND CASE WHEN program IN (SELECT program_id FROM own) THEN p.program_id = program
                    ELSE p.program_id NOT IN (SELECT program_id FROM own) END
    )
    SELECT ((SELECT count(*) FROM counted WHERE NOT grouped)
          + (SELECT count(DISTINCT match_id) FROM counted WHERE grouped))::integer
$$;

-- Which match (a request's, a bulk pair's, a group's or a circle's) each relationship started from, and in which
-- program: a closure names only the relationship.
CREATE TABLE relationship_matches (
    relationship_id text PRIMARY KEY,
    match_id        text NOT NULL,
    program_id      text NOT NULL
);
