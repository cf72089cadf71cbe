"""Figures over time, per month: participants by role, lagging relationships, meetings vs agreed cadence.

Lagging spells: a spell starts at a ``RelationshipLagging`` and ends at the next ``MeetingLogged``
(when it was logged) or the ``RelationshipClosed``; repeated nudges before that meeting are one
spell.  Cadence: a relationship whose agreement says "meet at most every N weeks" is expected to
have held ``days active // (7 N)`` meetings (counted from its start, to its closing or "now"); it
keeps its cadence when it has held at least that many.  These count relationships, not a
breakdown of people by an attribute, so their cells are not withheld (a department or cohort
filter selecting too few people withholds everything, as for the other figures).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import UTC, date, datetime

import asyncpg

from services.analytics.querying.periods import PopulationFilters, month_points, population, ratio


async def participants_over_time(
    conn: asyncpg.Connection, schema: str, filters: PopulationFilters, now: date
) -> list[dict]:
    """Mentors and mentees active at each month's end: registered and not (or no longer) left."""
    args: list = []
    where = population(filters, "r.participant_id", schema, args)
    roles = await conn.fetch(
        f"SELECT participant_id, role, registered_on FROM {schema}.activity_roles r WHERE {where}", *args
    )
    presence: dict[str, list] = defaultdict(list)
    for row in await conn.fetch(
        f"SELECT participant_id, effective_on, at, present FROM {schema}.activity_presence ORDER BY effective_on, at"
    ):
        presence[row["participant_id"]].append((row["effective_on"], row["present"]))

    def present(participant_id: str, day: date) -> bool:
        facts = [p for on, p in presence.get(participant_id, ()) if on <= day]
        return facts[-1] if facts else True

    first = filters.start or min((r["registered_on"] for r in roles), default=None)
    series = []
    for month, _, day in month_points(first, now):
        active = [r["role"] for r in roles if r["registered_on"] <= day and present(r["participant_id"], day)]
        series.append({"month": month, "mentors": active.count("mentor"), "mentees": active.count("mentee")})
    return series


async def relationship_facts(conn: asyncpg.Connection, schema: str, filters: PopulationFilters) -> list[asyncpg.Record]:
    """Started relationships (of the filtered mentees) with their sorted meeting and lagging dates."""
    args: list = []
    where = population(filters, "r.mentee_ids[1]", schema, args)
    return await conn.fetch(
        f"""WITH m AS (SELECT relationship_id, array_agg(held_on ORDER BY held_on) AS held,
                              array_agg(logged_at ORDER BY logged_at) AS logged
                       FROM {schema}.activity_meetings GROUP BY relationship_id),
                 l AS (SELECT relationship_id, array_agg(lagging_at ORDER BY lagging_at) AS lagging
                       FROM {schema}.activity_lagging GROUP BY relationship_id)
            SELECT r.*, coalesce(m.held, '{{}}') AS held, coalesce(m.logged, '{{}}') AS logged,
                   coalesce(l.lagging, '{{}}') AS lagging
            FROM {schema}.activity_relationships r
            LEFT JOIN m USING (relationship_id) LEFT JOIN l USING (relationship_id)
            WHERE r.started_on IS NOT NULL AND {where}""",
        *args,
    )


def _day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def lagging_spells(row: asyncpg.Record) -> list[tuple[date, date | None]]:
    """(first day lagging, day it ended or None) per spell of one relationship."""
    ends: dict[datetime | None, datetime] = {}
    for start in row["lagging"]:
        later = row["logged"][bisect.bisect_right(row["logged"], start) :][:1]
        if row["closed_at"] is not None and row["closed_at"] > start:
            later.append(row["closed_at"])
        end = min(later, default=None)
        ends[end] = min(ends.get(end, start), start)
    return sorted((_day(start), None if end is None else _day(end)) for end, start in ends.items())


def _active(row: asyncpg.Record, day: date) -> bool:
    return row["started_on"] <= day and (row["closed_on"] is None or row["closed_on"] > day)


def lagging_over_time(rows: list[asyncpg.Record], filters: PopulationFilters, now: date) -> list[dict]:
    spells = {r["relationship_id"]: lagging_spells(r) for r in rows}
    first = filters.start or min((r["started_on"] for r in rows), default=None)
    series = []
    for month, month_start, day in month_points(first, now):
        during = at_end = 0
        for row in rows:
            mine = spells[row["relationship_id"]]
            during += any(s <= day and (e is None or e >= month_start) for s, e in mine)
            at_end += any(s <= day and (e is None or e > day) for s, e in mine)
        series.append(
            {
                "month": month,
                "active": sum(_active(r, day) for r in rows),
                "lagging_during_month": during,
                "lagging_at_month_end": at_end,
            }
        )
    return series


def _cadence_at(row: asyncpg.Record, day: date) -> tuple[int, int]:
    """(meetings held, meetings expected) by ``day``."""
    until = min(day, row["closed_on"]) if row["closed_on"] else day
    held = bisect.bisect_right(row["held"], until)
    return held, max((until - row["started_on"]).days, 0) // (7 * row["cadence_weeks"])


def cadence(rows: list[asyncpg.Record], filters: PopulationFilters, now: date) -> dict:
    """Relationships started in the date range, measured from their start to their closing or ``now``."""
    in_range = [r for r in rows if r["started_on"] <= now and (not filters.start or r["started_on"] >= filters.start)]
    agreed = [r for r in in_range if r["cadence_weeks"] is not None and r["signed_on"] <= now]
    counts = [_cadence_at(r, now) for r in agreed]
    behind = [expected - held for held, expected in counts]
    first = filters.start or min((r["started_on"] for r in rows), default=None)
    over_time = []
    for month, month_start, day in month_points(first, now):
        current = [r for r in rows if r["cadence_weeks"] is not None and r["signed_on"] <= day and _active(r, day)]
        keeping = sum(held >= expected for held, expected in (_cadence_at(r, day) for r in current))
        over_time.append(
            {
                "month": month,
                "meetings_held": sum(
                    bisect.bisect_right(r["held"], day) - bisect.bisect_left(r["held"], month_start) for r in rows
                ),
                "with_agreement": len(current),
                "keeping_cadence": keeping,
                "share_keeping": ratio(keeping, len(current)),
            }
        )
    return {
        "relationships_with_agreement": len(agreed),
        "without_agreement": len(in_range) - len(agreed),
        "meetings_held": sum(held for held, _ in counts),
        "meetings_expected": sum(expected for _, expected in counts),
        "keeping_cadence": sum(b <= 0 for b in behind),
        "share_keeping": ratio(sum(b <= 0 for b in behind), len(agreed)),
        "behind_by_one": sum(b == 1 for b in behind),
        "behind_by_two_or_more": sum(b >= 2 for b in behind),
        "over_time": over_time,
    }
