"""Mentor load vs capacity, as at "now": mentees in each mentor's active relationships over their capacity.

A mentor is counted while registered and not left; their capacity is the latest one set by
then (registration or ``MentorCapacityChanged``).  Each band is a group of mentors, so a band
of fewer than ``min_cell`` mentors is withheld.
"""

from __future__ import annotations

from datetime import date

import asyncpg

from services.analytics.querying.periods import PopulationFilters, cell, in_program, next_day, population, ratio

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
    rows = await conn.fetch(  # one pass over each table, not three subqueries per mentor (``bench/reads.py``)
        f"""WITH load AS (
                SELECT a.mentor_id, sum(cardinality(a.mentee_ids)) AS load FROM {schema}.activity_relationships a
                WHERE a.started_on <= $1 AND (a.closed_on IS NULL OR a.closed_on > $1) AND {of_program}
                GROUP BY a.mentor_id),
            capacity AS (
                SELECT DISTINCT ON (c.participant_id) c.participant_id, c.capacity FROM {schema}.activity_capacity c
                WHERE c.at < {next_day("$1")} ORDER BY c.participant_id, c.at DESC),
            presence AS (
                SELECT DISTINCT ON (p.participant_id) p.participant_id, p.present FROM {schema}.activity_presence p
                WHERE p.effective_on <= $1 ORDER BY p.participant_id, p.effective_on DESC, p.at DESC)
            SELECT r.participant_id, coalesce(c.capacity, 0) AS capacity, coalesce(l.load, 0)::int AS load
            FROM {schema}.activity_roles r
            LEFT JOIN capacity c ON c.participant_id = r.participant_id
            LEFT JOIN load l ON l.mentor_id = r.participant_id
            LEFT JOIN presence p ON p.participant_id = r.participant_id
            WHERE r.role = 'mentor' AND r.registered_on <= $1 AND {where} AND coalesce(p.present, true)""",
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
