"""Right to erasure in the projections: ``ParticipantErased`` removes what they hold of the person, in every
generation (the live one, every as-of snapshot, a build under way); the aggregate figures stay as they were.

What the projections hold of a person: the catalog's personal fields are never stored (the timeline keeps
what ``shared.personal`` leaves); what is left of theirs is their own streams on the timelines (their
profile's events, the notifications sent to them) and their access to the streams they took part in
(``stream_parties``). Erasure deletes both. Program, activity and workforce facts keep the person's id as
the key the counts are made on and nothing personal, so every figure is the same before and after; the
events of their requests and relationships stay, with ids and no personal text, for the other party.

Each generation keeps whom it erased (``erased_participants``): projection reaches the same rows whatever
order the topics arrive in (a replay may read a person's notifications after their erasure), because the
timeline removes again, batch by batch, the rows it adds for someone erased (``erase_late_arrivals``).
An as-of build erases too when the erasure is after its cut (``Batch.erased``). The live projector carries
each erasure over to the other generations (``erase_elsewhere``), and a snapshot finished after an erasure
takes over the live generation's list before it is served (``carry_over``); both under one lock, so no
erasure falls between the two.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from services.analytics.generation_names import schema_name
from services.analytics.projecting.copying import text_values

DDL = """
CREATE TABLE {schema}.erased_participants (
    participant_id text PRIMARY KEY
);
"""
SNAPSHOT_LOCK = 7_240_400
"""Taken (for the transaction) by an erasure carried to the other generations and by a snapshot being finished."""


async def erase(conn: asyncpg.Connection, schema: str, participants: Sequence[str]) -> None:
    """Remove what ``schema``'s projections hold of ``participants`` and remember them as erased."""
    if not participants:
        return
    people = sorted(set(participants))
    await conn.execute(
        f"INSERT INTO {schema}.erased_participants SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", people
    )
    await _remove(conn, schema, people)


async def erase_late_arrivals(conn: asyncpg.Connection, schema: str, people: Sequence[str]) -> None:
    """Remove again what a batch added for anyone among ``people`` this generation has erased already."""
    if not people:
        return
    array, values = text_values(list(people))
    erased = await conn.fetchval(
        f"SELECT array_agg(participant_id) FROM {schema}.erased_participants WHERE participant_id = ANY({array})",
        values,
    )
    if erased:
        await _remove(conn, schema, erased)


async def _remove(conn: asyncpg.Connection, schema: str, people: list[str]) -> None:
    await conn.execute(
        f"""DELETE FROM {schema}.timeline_events e USING {schema}.stream_parties p
        WHERE p.participant_id = ANY($1::text[]) AND p.stream_kind IN ('participant', 'notification')
          AND e.stream_kind = p.stream_kind AND e.stream_id = p.stream_id""",
        people,
    )
    await conn.execute(f"DELETE FROM {schema}.stream_parties WHERE participant_id = ANY($1::text[])", people)


async def erase_elsewhere(conn: asyncpg.Connection, schema: str, participants: Sequence[str]) -> None:
    """Carry an erasure ``schema`` made over to every snapshot and every as-of build under way (in the
    caller's transaction, the live projector's batch)."""
    if not participants:
        return
    await conn.execute("SELECT pg_advisory_xact_lock($1)", SNAPSHOT_LOCK)
    others = await conn.fetch(
        "SELECT generation FROM projection_generations"
        " WHERE state = 'snapshot' OR (state = 'building' AND as_of IS NOT NULL)"
    )
    for row in others:
        other = schema_name(row["generation"])
        if other != schema and await _has_projections(conn, other):
            await erase(conn, other, participants)


async def carry_over(conn: asyncpg.Connection, generation: int) -> None:
    """Before a snapshot is served: erase in it everyone the live generation has erased (in the caller's
    transaction, which marks it a snapshot)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", SNAPSHOT_LOCK)
    live = await conn.fetchval("SELECT generation FROM projection_generations WHERE state = 'live'")
    if live is None or not await _has_projections(conn, schema_name(live)):
        return
    erased = await conn.fetchval(
        f"SELECT coalesce(array_agg(participant_id), '{{}}') FROM {schema_name(live)}.erased_participants"
    )
    await erase(conn, schema_name(generation), erased)


async def _has_projections(conn: asyncpg.Connection, schema: str) -> bool:
    """Whether ``schema`` has this version's erasure table (a generation of an older shape may not)."""
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.erased_participants"))
