-- Events the broker refused for good (too large, invalid), and behind each one the later events of
-- the same aggregate, so that none overtakes it (a sequenced dead letter).  A parked row has left the
-- outbox; `mentorship outbox retry` puts an aggregate's rows back in the outbox, `drop` gives up
-- publishing them (the events stay in `events`).
CREATE TABLE outbox_parked (
    position    bigint      PRIMARY KEY REFERENCES events (position),
    stream_id   text        NOT NULL,
    size_bytes  integer     NOT NULL,
    reason      text        NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX outbox_parked_stream ON outbox_parked (stream_id, position);
