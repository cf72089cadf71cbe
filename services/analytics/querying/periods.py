"""What the dated figures share: the generation's "now", months, population filters and small cells.

"Now" is the latest event time the generation has seen (``activity_horizon``), or the
``end`` filter: an as-of build and a rebuild give the same figures, whatever the wall clock.
A month's figure is taken at its last day, or at "now" for the month "now" falls in.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Protocol

import asyncpg

MAX_MONTHS = 240


class PopulationFilters(Protocol):
    department: str | None
    cohort: str | None
    start: date | None
    end: date | None
    program: str | None


async def as_of(conn: asyncpg.Connection, schema: str, filters: PopulationFilters) -> date:
    latest = await conn.fetchval(f"SELECT latest FROM {schema}.activity_horizon")
    now = latest.astimezone(UTC).date() if latest else date.today()
    return min(filters.end, now) if filters.end else now


def month_points(first: date | None, last: date) -> list[tuple[str, date, date]]:
    """(``YYYY-MM``, first day, the day the month is measured at) from ``first``'s month to ``last``'s
    (the latest ``MAX_MONTHS`` of them)."""
    if first is None or first > last:
        return []
    points, month = [], max(first.replace(day=1), date(last.year - MAX_MONTHS // 12, last.month, 1))
    while month <= last:
        following = (month + timedelta(days=32)).replace(day=1)
        points.append((month.strftime("%Y-%m"), month, min(following - timedelta(days=1), last)))
        month = following
    return points[-MAX_MONTHS:]


def population(filters: PopulationFilters, person: str, schema: str, args: list) -> str:
    """SQL condition: ``person`` is in the department/cohort/program the filters select (appends to ``args``).

    A program's people are its members (``program_members``: enrolled, or asked, matched or started a
    relationship or group in it)."""
    clauses = []
    for field in ("department", "cohort"):
        value = getattr(filters, field)
        if value:
            args.append(value)
            clauses.append(
                f"{person} IN (SELECT participant_id FROM {schema}.participants WHERE {field} = ${len(args)})"
            )
    if program := getattr(filters, "program", None):
        args.append(program)
        clauses.append(
            f"{person} IN (SELECT participant_id FROM {schema}.program_members WHERE program_id = ${len(args)})"
        )
    return " AND ".join(clauses) or "true"


def in_program(filters: PopulationFilters, relationship: str, schema: str, args: list) -> str:
    """SQL condition: the relationship ``relationship`` (its id) belongs to the program the filters select."""
    program = getattr(filters, "program", None)
    if not program:
        return "true"
    args.append(program)
    return (
        f"{relationship} IN (SELECT relationship_id FROM {schema}.program_relationships"
        f" WHERE program_id = ${len(args)})"
    )


def next_day(day: str) -> str:
    """SQL: the first instant (timestamptz) of the UTC day after the date ``day``: a time is on ``day`` or before
    (``(t AT TIME ZONE 'UTC')::date <= day``) when it is earlier than that, compared without converting every row's
    time to a date (``bench/reads.py --scale 1``: a third of responsiveness' Postgres CPU, EXPLAIN ANALYZE)."""
    return f"(({day})::date + 1)::timestamp AT TIME ZONE 'UTC'"


def cell(count: int, min_cell: int) -> int | None:
    """A count of people, withheld (None) when it is small enough to single someone out."""
    return count if count == 0 or count >= min_cell else None


def share_cell(part: int, whole: int, min_cell: int) -> int | None:
    """``part`` of ``whole`` people, withheld when it or the rest (``whole - part``, derivable) is small."""
    return part if cell(part, min_cell) is not None and cell(whole - part, min_cell) is not None else None


def ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None
