-- Each build of the projections lives in its own schema (gen_<n>); one generation is live.
-- A rebuild fills a new generation from the beginning of every topic, then becomes live;
-- an as-of build stays a read-only snapshot of the projections as they stood at its cut.
CREATE TABLE projection_generations (
    generation integer     PRIMARY KEY,
    state      text        NOT NULL CHECK (state IN ('building', 'live', 'retired', 'snapshot')),
    as_of      timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    live_at    timestamptz
);
CREATE UNIQUE INDEX one_live_generation ON projection_generations (state) WHERE state = 'live';
