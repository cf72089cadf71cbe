-- Each build of the projections lives in its own schema (gen_<n>); one generation is live.
-- A rebuild fills a new generation from the beginning of every topic, then becomes live.
CREATE TABLE projection_generations (
    generation integer     PRIMARY KEY,
    state      text        NOT NULL CHECK (state IN ('building', 'live', 'retired')),
    as_of      timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    live_at    timestamptz
);
CREATE UNIQUE INDEX one_live_generation ON projection_generations (state) WHERE state = 'live';
