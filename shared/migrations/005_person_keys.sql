-- Crypto-shredding in every service (shared/sealing.py): one data key per person whose personal data this
-- service's event store holds; erasure sets it to NULL for good, so every sealed copy (in the store and on
-- the topics) becomes unreadable.  Profiles had the same table since its 006; it is kept as it is.
CREATE TABLE IF NOT EXISTS person_keys (
    participant_id text PRIMARY KEY,
    data_key       bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    shredded_at    timestamptz
);
