-- Read model of participants, updated in the same transaction as the events that change it.
CREATE TABLE participants (
    participant_id text PRIMARY KEY,
    email          text NOT NULL UNIQUE,
    name           text NOT NULL,
    roles          text[] NOT NULL,
    capacity       integer,
    profile        jsonb NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    version        integer NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
