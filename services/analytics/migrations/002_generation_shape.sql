-- The shape (a digest of the DDL) of the projections each generation was built with. A generation
-- built by another version of analytics has another shape: the live projector rebuilds it.
ALTER TABLE projection_generations ADD COLUMN shape text;
