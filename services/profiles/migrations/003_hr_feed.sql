-- Every HR fact received, kept so a worker can be re-derived in effective order whatever the arrival order.
CREATE TABLE hr_facts (
    arrival        bigserial PRIMARY KEY,
    event_id       text        NOT NULL UNIQUE,
    employee_id    text        NOT NULL,
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    effective_date date        NOT NULL,
    recorded_at    timestamptz NOT NULL,
    data           jsonb       NOT NULL
);
CREATE INDEX hr_facts_by_employee ON hr_facts (employee_id);

-- Rescissions, also those that arrive before the fact they withdraw.
CREATE TABLE hr_rescissions (
    rescinded_event_id text PRIMARY KEY,
    employee_id        text NOT NULL,
    rescinded_type     text NOT NULL,
    rescinded_by       text NOT NULL
);

-- Employee id -> participant id, and the worker view last applied to that participant.
-- participant_id is null while the worker is pending (no full HR record effective yet).
CREATE TABLE hr_workers (
    employee_id    text PRIMARY KEY,
    participant_id text UNIQUE,
    applied        jsonb,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
