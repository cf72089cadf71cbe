-- Ids of events a consumer group has handled; written in the same transaction as the handler's effect.
CREATE TABLE inbox (
    consumer_group text        NOT NULL,
    event_id       uuid        NOT NULL,
    event_type     text        NOT NULL,
    handled_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);
