-- Bulk HR imports: a session per file; a snapshot session names every current worker up front.
CREATE TABLE hr_imports (
    import_id        uuid PRIMARY KEY,
    mode             text NOT NULL CHECK (mode IN ('delta', 'snapshot')),
    dry_run          boolean NOT NULL,
    as_of            date NOT NULL,
    counts           jsonb NOT NULL DEFAULT '{}',
    leavers          text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL,
    completed_at     timestamptz
);

CREATE TABLE hr_import_roster (
    import_id   uuid NOT NULL REFERENCES hr_imports ON DELETE CASCADE,
    employee_id text NOT NULL,
    PRIMARY KEY (import_id, employee_id)
);

-- Linking a worker looks participants up by email, case-insensitively (once per imported row).
CREATE INDEX participants_lower_email ON participants (lower(email));
