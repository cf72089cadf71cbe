"""The projections every generation holds.

Each module in ``ALL`` exposes:

- ``DDL``: ``CREATE TABLE {schema}.…`` statements, run when a generation is created;
- ``async def apply_batch(conn, schema, events: Sequence[Envelope]) -> None``: called once per
  fetched batch inside the projector's transaction (the one that also moves the checkpoints).
  ``events`` holds only events new to this generation (deduplicated by id) and inside an as-of
  cut, in log order per partition. Order across topics and partitions is not guaranteed, so a
  projection must reach the same rows whatever order related streams arrive in.
"""
