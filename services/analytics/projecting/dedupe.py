"""Each event applied to a generation once: a republished copy is recognised by its id.

Every applied id is in the generation's ``projected_events`` (its key rejects one applied before).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from services.analytics.projecting import binary_copy
from services.analytics.projecting.batches import Batch
from shared.envelope import EnvelopeRecord


async def new_to_generation(
    conn: asyncpg.Connection, schema: str, batch: Batch, as_of: datetime | None
) -> list[EnvelopeRecord] | None:
    """The events this generation has not applied yet, recorded as applied; ``None`` when that is every
    event of the batch.

    The ids are copied into ``projected_events``: a plain COPY costs Postgres about half of an
    ``INSERT … ON CONFLICT DO NOTHING RETURNING``. Only when the COPY hits a copy does the slower
    statement tell which events are new.
    """
    if not batch.count:
        return []
    try:
        async with conn.transaction():  # a savepoint: a failed COPY leaves the batch's transaction usable
            await binary_copy.copy_encoded(conn, schema, "projected_events", ["event_id"], batch.encoded_ids)
        if batch.unique_ids == batch.count:
            return None
        new_ids = set(batch.ids())  # a copy later in the same batch: only the first counts
    except asyncpg.UniqueViolationError:
        inserted = await conn.fetchval(
            f"WITH ins AS (INSERT INTO {schema}.projected_events SELECT unnest($1::uuid[])"
            f" ON CONFLICT DO NOTHING RETURNING event_id) SELECT coalesce(array_agg(event_id), '{{}}') FROM ins",
            batch.ids(),
        )
        new_ids = {UUID(bytes=i.bytes) for i in inserted}
    fresh = []
    for envelope in batch.decoded_events(as_of):
        if envelope.id in new_ids:
            new_ids.discard(envelope.id)
            fresh.append(envelope)
    return fresh
