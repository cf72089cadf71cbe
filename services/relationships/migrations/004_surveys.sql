-- Issue 18: surveys throughout. Templates per program and kind (none: the built-in defaults), one row per
-- survey opened (its questions as they were when it opened, who is asked, who answered), and the free-text
-- answers, sealed (AES-256-GCM, bound to survey, respondent and question), readable by the respondent only.
ALTER TABLE program_terms ADD COLUMN surveys text[];  -- NULL: every kind (the built-in default program)

CREATE TABLE survey_templates (
    program_id text NOT NULL,
    kind       text NOT NULL,
    questions  jsonb NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, kind)
);

CREATE TABLE survey_view (
    survey_id       text PRIMARY KEY,
    kind            text NOT NULL,
    program_id      text NOT NULL,
    relationship_id text,
    respondent_ids  text[] NOT NULL,
    answered_ids    text[] NOT NULL DEFAULT '{}',
    questions       jsonb NOT NULL,
    opened_on       date NOT NULL,
    expires_on      date NOT NULL
);
CREATE INDEX survey_view_respondents ON survey_view USING gin (respondent_ids);
CREATE INDEX survey_view_relationship ON survey_view (relationship_id);

CREATE TABLE survey_texts (
    survey_id     text NOT NULL,
    respondent_id text NOT NULL,
    question_id   text NOT NULL,
    key_id        text NOT NULL,
    nonce         bytea NOT NULL,
    ciphertext    bytea NOT NULL,
    written_at    timestamptz NOT NULL,
    PRIMARY KEY (survey_id, respondent_id, question_id)
);
CREATE INDEX survey_texts_respondent ON survey_texts (respondent_id);
