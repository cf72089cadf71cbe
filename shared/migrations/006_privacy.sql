-- Who may no longer act (shared.standing): learnt from profiles' ParticipantDeactivated / Reactivated /
-- Erased events by every service, so a token that has not expired yet is refused all the same.
CREATE TABLE participant_standing (
    participant_id text        PRIMARY KEY,
    standing       text        NOT NULL CHECK (standing IN ('deactivated', 'erased')),
    since          timestamptz NOT NULL DEFAULT now()
);

-- What this service removed or made unreadable when it handled a person's erasure (shared.privacy):
-- counts per place only, never the data.  The subject-access report shows it; the CLI waits for it.
CREATE TABLE erasure_receipts (
    participant_id text        PRIMARY KEY,
    erased_at      timestamptz NOT NULL DEFAULT now(),
    removed        jsonb       NOT NULL
);
