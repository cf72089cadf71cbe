-- Contact details from profiles events; a participant's row is deleted when they are erased.
CREATE TABLE contacts (
    participant_id text PRIMARY KEY,
    name           text,
    email          text
);
-- Erased ids only (no personal data): later events about them are ignored.
CREATE TABLE erased_participants (participant_id text PRIMARY KEY);

CREATE TABLE preferences (
    participant_id text PRIMARY KEY,
    channels       text[] NOT NULL,
    digest         boolean NOT NULL DEFAULT false
);

-- Who asked for what: the mentee and biography of a request, the parties of a relationship.
CREATE TABLE requests (
    request_id text PRIMARY KEY,
    mentee_id  text NOT NULL,
    biography  text NOT NULL
);
CREATE TABLE relationships (
    relationship_id   text PRIMARY KEY,
    mentor_id         text NOT NULL,
    mentee_ids        text[] NOT NULL,
    cadence_weeks_max integer
);

-- One row per cause = (cause id, recipient, channel): recorded before anything is sent.
-- status: held (waits for the digest) → bundled; pending → sending → sent | retrying → pending | failed | unknown;
-- cancelled (recipient erased).
CREATE TABLE intents (
    notification_id uuid PRIMARY KEY,
    cause_id        text NOT NULL,
    recipient_id    text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    template        text NOT NULL,
    context         jsonb NOT NULL,
    status          text NOT NULL,
    due_at          timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    crash_resends   integer NOT NULL DEFAULT 0,
    claimed_at      timestamptz,
    last_error      text,
    sent_at         timestamptz,
    UNIQUE (cause_id, recipient_id, channel)
);
CREATE INDEX intents_ready ON intents (due_at) WHERE status = 'pending';
CREATE INDEX intents_sending ON intents (claimed_at) WHERE status = 'sending';
CREATE INDEX intents_recipient ON intents (recipient_id);
