-- The content hash of every import row whose fact is kept (hr_facts.event_id): a row sent again (a nightly full
-- snapshot, a re-run file) is found unchanged set-based by the hash of its fields as sent, before it is parsed.
-- Erasing the worker deletes their rows here with their facts.
CREATE TABLE hr_import_rows (
    content_hash bytea PRIMARY KEY,
    employee_id  text NOT NULL,
    event_id     text NOT NULL
);
CREATE INDEX hr_import_rows_by_employee ON hr_import_rows (employee_id);
