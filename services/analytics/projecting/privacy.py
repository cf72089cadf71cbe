"""Where analytics keeps a person's data (``shared.privacy``): in every generation (live, snapshots, builds),
the events of their own streams on the timelines (their profile's, the notifications sent to them) and their
access to the streams they took part in.  Figures keep only ids, and no personal field is ever stored."""

from __future__ import annotations

import asyncpg

from services.analytics.generation_names import schema_name
from shared.privacy import Place

_OWN = """
SELECT count(*) FROM {schema}.timeline_events e JOIN {schema}.stream_parties p
    ON e.stream_kind = p.stream_kind AND e.stream_id = p.stream_id
WHERE p.participant_id = $1 AND p.stream_kind IN ('participant', 'notification')
"""


async def inventory(conn: asyncpg.Connection, person_id: str) -> list[Place]:
    places = []
    generations = await conn.fetch(
        "SELECT generation, state FROM projection_generations WHERE state IN ('live', 'snapshot', 'building')"
        " ORDER BY generation"
    )
    for g in generations:
        schema = schema_name(g["generation"])
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.stream_parties"):
            continue
        own = await conn.fetchval(_OWN.format(schema=schema), person_id)
        parties = await conn.fetchval(
            f"SELECT count(*) FROM {schema}.stream_parties WHERE participant_id = $1", person_id
        )
        where = f"generation {g['generation']} ({g['state']})"
        places.append(Place(f"{where} timeline_events", "events of their profile and notifications", own, own))
        places.append(Place(f"{where} stream_parties", "their access to timelines", parties, parties))
    return places
