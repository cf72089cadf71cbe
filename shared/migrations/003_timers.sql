-- Durable timers (deadlines, cadence checks, reminders): fire once, survive restarts.
CREATE TABLE timers (
    timer_key  text        PRIMARY KEY,
    kind       text        NOT NULL,
    subject    text        NOT NULL,
    due_at     timestamptz NOT NULL,
    payload    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    fired_at   timestamptz,
    cancelled_at timestamptz,
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
