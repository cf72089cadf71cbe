"""The projections every generation holds.

Each module in ``ALL`` exposes:

- ``DDL``: ``CREATE TABLE {schema}.…`` statements, run when a generation is created;
- ``prepare(events) -> prepared``: pure Python, no I/O. The projector runs it in a worker thread
  ahead of the database, so it must not touch anything but its arguments;
- ``async def write(conn, schema, prepared) -> None``: called once per fetched batch inside the
  projector's transaction (the one that also moves the checkpoints);
- ``async def apply_batch(conn, schema, events)``: both in one go.

``events`` (``EnvelopeRecord``; a pydantic ``Envelope`` has the same attributes) holds only events
new to this generation (deduplicated by id) and inside an as-of cut, in log order per partition.
Order across topics and partitions is not guaranteed, so a projection must reach the same rows
whatever order related streams arrive in.

A projection works set-wise: it turns the batch into rows in Python (an event whose payload lacks
what it needs is logged and left out, the other projections still see it) and writes them with a
few statements (COPY, ``INSERT … SELECT FROM unnest``), never one statement per event.
"""

from services.analytics.projecting.projections import (
    activity,
    answer_days,
    evaluation,
    fast_starts,
    program,
    relationship_sums,
    surveys,
    timeline,
    workforce,
)

ALL = (timeline, program, activity, workforce, evaluation, fast_starts, answer_days, surveys, relationship_sums)
"""In write order: ``relationship_sums`` reads the program and activity facts the batch has just written,
``fast_starts`` the program and evaluation facts, ``answer_days`` the evaluation facts."""
