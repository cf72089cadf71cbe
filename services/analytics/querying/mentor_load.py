"""Mentor load vs capacity, as at "now": mentees in each mentor's active relationships over their capacity.

A mentor is counted while registered and not left; their capacity is the latest one set by
then (registration or ``MentorCapacityChanged``).  Each band is a group of mentors, so a band
of fewer than ``min_cell`` mentors is withheld.
"""

from __future__ import annotations

from datetime import date

import asyncpg

from services.analytics.querying.periods import PopulationFilters, cell, in_program, population, ratio

BANDS = ("idle", "under_half", "half_or_more", "full", "over")


def band(load: int, capacity: int) -> str:
    if load == 0:
        return "idle"
    if load > capacity:
        return "over"
    if load == capacity:
        return "full"
    return "under_half" if load / capacity < 0.5 else "half_or_more"


async def mentor_load(
    conn: asyncpg.Connection, schema: str, filters: PopulationFilters, now: date, min_cell: int
) -> dict:
    args: list = [now]
    where = population(filters, "r.participant_id", schema, args)
    of_program = in_program(filters, "a.relationship_id", schema, args)  # a program's load: its relationships
    rows = await conn.fetch(
        f"""SELECT r.participant_id,
              coalesce((SELECT c.capacity FROM {schema}.activity_capacity c
                        WHERE c.participant_id = r.participant_id AND (c.at AT TIME ZONE 'UTC')::date <= $1
                        ORDER BY c.at DESC LIMIT 1), 0) AS capacity,
              coalesce((SELECT sum(cardinality(a.mentee_ids)) FROM {schema}.activity_relationships a
                        WHERE a.mentor_id = r.participant_id AND a.started_on <= $1
                          AND (a.closed_on IS NULL OR a.closed_on > $1) AND {of_program}), 0)::int AS load
            FROM {schema}.activity_roles r
            WHERE r.role = 'mentor' AND r.registered_on <= $1 AND {where}
              AND coalesce((SELECT p.present FROM {schema}.activity_presence p
                            WHERE p.participant_id = r.participant_id AND p.effective_on <= $1
                            ORDER BY p.effective_on DESC, p.at DESC LIMIT 1), true)""",
        *args,
    )
    bands = [band(r["load"], r["capacity"]) for r in rows]
    capacity, load = sum(r["capacity"] for r in rows), sum(r["load"] for r in rows)
    return {
        "as_of": now.isoformat(),
        "mentors": len(rows),
        "capacity": capacity,
        "mentees_placed": load,
        "utilisation": ratio(load, capacity),
        "distribution": {name: cell(bands.count(name), min_cell) for name in BANDS},
    }
