-- Read model: one row per relationship, rewritten from the aggregate in the transaction that appends.
CREATE TABLE relationship_view (
    relationship_id      text PRIMARY KEY,
    version              integer NOT NULL,
    model                text NOT NULL,
    mentor_id            text NOT NULL,
    mentee_ids           text[] NOT NULL,
    match_id             text NOT NULL,
    phase                text NOT NULL,
    started_on           date NOT NULL,
    agreement_signed_on  date,
    cadence_weeks_max    integer NOT NULL,
    last_meeting_on      date,
    meetings             integer NOT NULL DEFAULT 0,
    lagging              boolean NOT NULL DEFAULT false,
    review_due_on        date,
    closed_on            date,
    closure_reason       text,
    rematch_requested    boolean
);
CREATE INDEX relationship_view_mentor ON relationship_view (mentor_id);
CREATE INDEX relationship_view_mentees ON relationship_view USING gin (mentee_ids);

-- The agreement being negotiated (and, once concluded, the signed document with its development plan).
CREATE TABLE agreement_drafts (
    relationship_id text PRIMARY KEY,
    revision        integer NOT NULL,
    terms           jsonb NOT NULL,
    proposed_by     text NOT NULL,
    signatures      jsonb NOT NULL,
    concluded       boolean NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Meeting notes and survey comments, confidential to the relationship's parties: AES-256-GCM
-- ciphertext only, under the key named by key_id.  Never copied into events or the view.
CREATE TABLE confidential_texts (
    kind            text NOT NULL CHECK (kind IN ('meeting_note', 'feedback_comment')),
    record_id       text NOT NULL,
    relationship_id text NOT NULL,
    author_id       text NOT NULL,
    key_id          text NOT NULL,
    nonce           bytea NOT NULL,
    ciphertext      bytea NOT NULL,
    written_at      timestamptz NOT NULL,
    PRIMARY KEY (kind, record_id)
);
CREATE INDEX confidential_texts_relationship ON confidential_texts (relationship_id, kind);
