-- Every event a service has decided, in global order.  One stream per aggregate.
CREATE TABLE events (
    position        bigserial PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL,
    version         integer     NOT NULL CHECK (version >= 1),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    occurred_at     timestamptz NOT NULL,
    correlation_id  uuid        NOT NULL,
    causation_id    uuid,
    data            jsonb       NOT NULL,
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, version)
);

-- Events committed but not yet published.  The relay deletes a row once the
-- broker acknowledged it, so an event whose transaction commits late (with a
-- lower position than events already published) is still found here.
CREATE TABLE outbox (
    position bigint PRIMARY KEY REFERENCES events (position)
);
