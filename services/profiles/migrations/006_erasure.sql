-- Crypto-shredding: one data key per person; erasure sets it to NULL for good.
CREATE TABLE IF NOT EXISTS person_keys (
    participant_id text PRIMARY KEY,
    data_key       bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    shredded_at    timestamptz
);

-- Erased participants leave the read model; only the fact of the erasure stays.
CREATE TABLE erased_participants (
    participant_id text PRIMARY KEY,
    erased_at      timestamptz NOT NULL
);

-- HR facts about an erased worker are no longer kept.
ALTER TABLE hr_workers ADD COLUMN erased_at timestamptz;
