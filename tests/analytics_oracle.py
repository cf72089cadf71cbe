"""The dashboard's lagging and cadence figures computed the way they were before per-month sums: by a scan
of every relationship with all its meetings and nudges. Kept here, in the tests only, as the oracle the
figures read from ``relationship_sums`` must equal (``querying/trends.py`` documents the rules)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import asyncpg

from services.analytics.querying.evaluation import FAST_DAYS, _people, median
from services.analytics.querying.periods import (
    PopulationFilters,
    cell,
    in_program,
    month_points,
    population,
    ratio,
)
from services.analytics.querying.trends import _Months


async def relationship_facts(conn: asyncpg.Connection, schema: str, filters: PopulationFilters) -> list[asyncpg.Record]:
    """Started relationships (of the filtered mentees) with their sorted meeting and lagging dates."""
    args: list = []
    where = population(filters, "r.mentee_ids[1]", schema, args)
    where += " AND " + in_program(filters, "r.relationship_id", schema, args)
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


def _until(days: list[date], end: date | None) -> int:
    """The first month index whose measuring day is on or after ``end`` (all months when there is no end)."""
    return len(days) if end is None else bisect.bisect_left(days, end)


def lagging_over_time(rows: list[asyncpg.Record], filters: PopulationFilters, now: date) -> list[dict]:
    """Per month: relationships active at its end, lagging at some time in it, lagging at its end.

    Each relationship adds to the months it covers (intervals of months, not a scan of every month)."""
    first = filters.start or min((r["started_on"] for r in rows), default=None)
    points = month_points(first, now)
    days, starts = [day for _, _, day in points], [start for _, start, _ in points]
    active, during, at_end = _Months(len(points)), _Months(len(points)), _Months(len(points))
    for row in rows:
        active.add(bisect.bisect_left(days, row["started_on"]), _until(days, row["closed_on"]))
        spells = lagging_spells(row)
        during.add_union(
            [
                (bisect.bisect_left(days, s), len(days) if e is None else bisect.bisect_right(starts, e))
                for s, e in spells
            ]
        )
        at_end.add_union([(bisect.bisect_left(days, s), _until(days, e)) for s, e in spells])
    actives, durings, ends = active.totals(), during.totals(), at_end.totals()
    return [
        {"month": month, "active": actives[i], "lagging_during_month": durings[i], "lagging_at_month_end": ends[i]}
        for i, (month, _, _) in enumerate(points)
    ]


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
    points = month_points(first, now)
    days = [day for _, _, day in points]
    held_anywhere = sorted(day for r in rows for day in r["held"])
    with_agreement, keeping = _Months(len(points)), [0] * len(points)
    for r in rows:
        if r["cadence_weeks"] is None:
            continue
        since = max(bisect.bisect_left(days, r["signed_on"]), bisect.bisect_left(days, r["started_on"]))
        until = _until(days, r["closed_on"])
        with_agreement.add(since, until)
        held, weeks, started = r["held"], 7 * r["cadence_weeks"], r["started_on"]
        meetings = bisect.bisect_right(held, days[since]) if since < until else 0
        for i in range(since, until):  # active and agreed: the day is before any closing
            while meetings < len(held) and held[meetings] <= days[i]:
                meetings += 1
            keeping[i] += meetings >= max((days[i] - started).days, 0) // weeks
    current = with_agreement.totals()
    over_time = [
        {
            "month": month,
            "meetings_held": bisect.bisect_right(held_anywhere, day) - bisect.bisect_left(held_anywhere, month_start),
            "with_agreement": current[i],
            "keeping_cadence": keeping[i],
            "share_keeping": ratio(keeping[i], current[i]),
        }
        for i, (month, month_start, day) in enumerate(points)
    ]
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


# --- fast starts, as computed before Postgres counted them (querying/evaluation.py) -------------------------


def _start_group(rows: list[dict], now: date, min_cell: int) -> dict:
    count = len(rows)
    figures: dict = {"relationships": cell(count, min_cell)}
    for name, key in (("agreement", "signed"), ("first_meeting", "met")):
        if figures["relationships"] is None or count == 0:
            figures[f"median_days_to_{name}"] = figures[f"{name}_within_{FAST_DAYS}_days_rate"] = None
            continue
        days = [(r[key] - r["matched_on"]).days for r in rows if r[key] is not None and r[key] <= now]
        # decided: reached within the window, or the window has passed (a later or no milestone = lagging)
        decided = [r for r in rows if r["matched_on"] + timedelta(days=FAST_DAYS) <= now or _fast(r, key, now)]
        fast = sum(_fast(r, key, now) for r in decided)
        figures[f"median_days_to_{name}"] = median(days) if cell(len(days), min_cell) is not None else None
        figures[f"{name}_within_{FAST_DAYS}_days_rate"] = (
            ratio(fast, len(decided)) if cell(len(decided), min_cell) is not None else None
        )
    return figures


def _fast(row: dict, key: str, now: date) -> bool:
    return row[key] is not None and row[key] <= now and (row[key] - row["matched_on"]).days <= FAST_DAYS


async def fast_starts_scan(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    min_cell: int,
    program: str | None = None,
) -> dict:
    """Days from the match (``MatchApproved``; the start for a relationship without one) to the agreement
    signed and to the first meeting held: medians, and the share reached within 30 days among those whose
    30 days have passed (or that reached it already). By program and by cohort (the mentee's registration
    month), and overall. A group of fewer than ``min_cell`` relationships is withheld."""
    args: list = [now, program]
    where = population(_people(filters), "r.mentee_ids[1]", schema, args)
    rows = [
        {
            "program": r["program_id"],
            "cohort": r["cohort"] or "unknown",
            "matched_on": r["matched_on"],
            "signed": r["signed"],
            "met": r["met"],
        }
        for r in await conn.fetch(
            f"""SELECT r.program_id, p.cohort,
                       coalesce((m.matched_at AT TIME ZONE 'UTC')::date, r.started_on) AS matched_on,
                       s.on_date AS signed, f.on_date AS met
                FROM {schema}.eval_relationships r
                LEFT JOIN {schema}.eval_matches m ON m.match_id = r.match_id
                LEFT JOIN {schema}.eval_milestones s ON s.relationship_id = r.relationship_id AND s.kind = 'signed'
                LEFT JOIN {schema}.eval_milestones f ON f.relationship_id = r.relationship_id AND f.kind = 'meeting'
                LEFT JOIN {schema}.participants p ON p.participant_id = r.mentee_ids[1]
                WHERE r.started_on <= $1 AND ($2::text IS NULL OR r.program_id = $2) AND {where}""",
            *args,
        )
    ]
    by: dict[str, dict[str, list]] = {"program": defaultdict(list), "cohort": defaultdict(list)}
    for r in rows:
        by["program"][r["program"]].append(r)
        by["cohort"][r["cohort"]].append(r)
    return {
        "as_of": now.isoformat(),
        "fast_within_days": FAST_DAYS,
        "overall": _start_group(rows, now, min_cell),
        "by_program": [{"program": k, **_start_group(v, now, min_cell)} for k, v in sorted(by["program"].items())],
        "by_cohort": [{"cohort": k, **_start_group(v, now, min_cell)} for k, v in sorted(by["cohort"].items())],
    }


# --- responsiveness, as computed before the projector kept a row per forward (querying/evaluation.py) -------------


async def forwards_joined(
    conn: asyncpg.Connection, schema: str, filters: PopulationFilters, now: date, program: str | None
) -> tuple[dict[str, dict], list[float]]:
    """``evaluation._forwards`` as it was: every forward joined with its answer (and its request for a program)."""
    args: list = [now]
    join = by_program = ""
    if program is not None:
        args.append(program)
        join = f"LEFT JOIN {schema}.eval_requests r ON r.request_id = f.request_id"
        by_program = "AND (r.program_id = $2 OR (r.program_id IS NULL AND $2 = 'default'))"
    where = population(_people(filters), "f.mentor_id", schema, args)
    rows = await conn.fetch(
        f"""WITH answered AS (
                SELECT f.mentor_id, a.outcome,
                       CASE WHEN a.outcome IN ('accepted', 'declined')
                            THEN extract(epoch FROM a.answered_at - f.forwarded_at)::float8 / 86400 END AS days
                FROM {schema}.eval_forwards f
                LEFT JOIN {schema}.eval_answers a
                  ON a.request_id = f.request_id AND a.choice_rank = f.choice_rank
                 AND (a.answered_at AT TIME ZONE 'UTC')::date <= $1
                {join}
                WHERE (f.forwarded_at AT TIME ZONE 'UTC')::date <= $1 {by_program} AND {where})
            SELECT grouping(mentor_id) AS every, mentor_id, count(*) AS received,
                   count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
                   count(*) FILTER (WHERE outcome = 'declined') AS declined,
                   count(*) FILTER (WHERE outcome = 'expired') AS expired,
                   count(*) FILTER (WHERE outcome IS NULL) AS pending,
                   coalesce((array_agg(days ORDER BY days) FILTER (WHERE days IS NOT NULL))
                            [(count(days) + 1) / 2 : (count(days) + 2) / 2], '{{}}') AS middle
            FROM answered GROUP BY GROUPING SETS ((mentor_id), ())""",
        *args,
    )
    mentors = {
        r["mentor_id"]: {
            **{k: r[k] for k in ("received", "accepted", "declined", "expired", "pending")},
            "middle": r["middle"],
        }
        for r in rows
        if not r["every"]
    }
    return mentors, next(r["middle"] for r in rows if r["every"])
