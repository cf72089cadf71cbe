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
from datetime import date, timedelta

import asyncpg

from services.analytics.querying.periods import PopulationFilters, month_points, population, ratio


async def participants_over_time(
    conn: asyncpg.Connection, schema: str, filters: PopulationFilters, now: date
) -> list[dict]:
    """Mentors and mentees active at each month's end: registered and not (or no longer) left.

    A role counts in a month from the month it registered in, while the latest presence fact effective by the
    month's day says present (none: present). Counted by Postgres as intervals of month indices and their
    changes per month (a difference array), a few rows per month, where a Python loop over every role and every
    presence fact took 32 ms of CPU per unfiltered or period read (``bench/reads.py --scale 0.3``) and grew with
    the participants."""
    args: list = []
    where = population(filters, "r.participant_id", schema, args)
    first = filters.start or await conn.fetchval(
        f"SELECT min(registered_on) FROM {schema}.activity_roles r WHERE {where}", *args
    )
    points = month_points(first, now)
    if not points:
        return []
    n = len(args)
    # a day's month index: that of the first point measured on or after it (``bisect_left`` of the days), as the
    # days are month ends but the last ("now"): before the first month 0, after "now" past the last point
    month = _MONTH_SQL.format(day="{day}")
    index = f"CASE WHEN {{day}} > ${n + 1} THEN ${n + 3} ELSE greatest(0, {month} - ${n + 2}) END"
    rows = await conn.fetch(
        f"""WITH roles AS (
                SELECT r.participant_id, r.role, {index.format(day="r.registered_on")} AS registered
                FROM {schema}.activity_roles r WHERE r.role IN ('mentor', 'mentee') AND {where}),
            facts AS (
                SELECT r.participant_id, r.role, r.registered, {index.format(day="p.effective_on")} AS since,
                       p.present, p.effective_on, p.at
                FROM roles r JOIN {schema}.activity_presence p ON p.participant_id = r.participant_id),
            changes AS (  -- a role with presence facts: present from the first month on, then as each fact says
                SELECT DISTINCT participant_id, role, registered, 0 AS since, true AS present,
                       NULL::date AS effective_on, NULL::timestamptz AS at
                FROM facts
                UNION ALL
                SELECT * FROM facts),
            spans AS (  -- months first .. until - 1 present, for n roles
                SELECT role, greatest(since, registered) AS first, present, 1 AS n,
                       lead(since, 1, ${n + 3}) OVER (
                         PARTITION BY participant_id COLLATE "C", role
                         ORDER BY effective_on NULLS FIRST, at NULLS FIRST) AS until
                FROM changes
                UNION ALL  -- the roles without any: present from their registration on
                SELECT role, registered, true, count(*)::int, ${n + 3} FROM roles r
                WHERE NOT EXISTS (SELECT FROM {schema}.activity_presence p WHERE p.participant_id = r.participant_id)
                GROUP BY role, registered)
            SELECT role, month, sum(change * n)::int AS change
            FROM spans, LATERAL (VALUES (first, 1), (until, -1)) AS c(month, change)
            WHERE present AND first < until
            GROUP BY role, month""",
        *args,
        now,
        _month(points[0][1]),
        len(points),
    )
    counts = {"mentor": _Months(len(points)), "mentee": _Months(len(points))}
    for row in rows:
        counts[row["role"]].diff[row["month"]] += row["change"]
    mentors, mentees = counts["mentor"].totals(), counts["mentee"].totals()
    return [{"month": month, "mentors": mentors[i], "mentees": mentees[i]} for i, (month, _, _) in enumerate(points)]


_MONTH_SQL = "(date_part('year', {day})::int * 12 + date_part('month', {day})::int - 1)"
"""A day's month as ``_month`` gives it (year * 12 + month - 1), in SQL (``date_part``'s float, not ``extract``'s
numeric: a third of the query's time went to the numerics)."""


class _Months:
    """Counts per month over intervals of month indices (a difference array): O(intervals + months)."""

    def __init__(self, months: int) -> None:
        self.months, self.diff = months, [0] * (months + 1)

    def add(self, first: int, until: int) -> None:
        """One more in months ``first`` .. ``until - 1``."""
        first, until = max(first, 0), min(until, self.months)
        if first < until:
            self.diff[first] += 1
            self.diff[until] -= 1

    def add_union(self, intervals: list[tuple[int, int]]) -> None:
        """One more in every month covered by any of ``intervals`` (overlaps counted once)."""
        end = -1
        for first, until in sorted(intervals):
            first = max(first, end)
            self.add(first, until)
            end = max(end, until)

    def totals(self) -> list[int]:
        running, out = 0, []
        for change in self.diff[:-1]:
            running += change
            out.append(running)
        return out


_LEVELS = ("active", "lagging_at", "agreed", "keeping", "held")
_TOTALS = ("in_range", "agreed_by", "held_by", "expected_by", "keeping_by", "behind_one", "behind_two")
_READ = ("started", "lagging_before", "lagging_entered", *_LEVELS, *_TOTALS)


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _keyed(filters: PopulationFilters, alias: str, args: list) -> str:
    """SQL condition on the key a relationship's sums are kept under (its mentee's department and cohort, its
    program when the mentee is a member of it): the relationships ``population`` and ``in_program`` select."""
    clauses = []
    for field in ("department", "cohort", "program"):
        value = getattr(filters, field, None)
        if value:
            args.append(value)
            clauses.append(f"{alias}.{'program_id' if field == 'program' else field} = ${len(args)}")
    return " AND ".join(clauses) or "true"


class _Sums:
    """The month sums of every measure (``relationship_sums``), summed over the filtered keys."""

    def __init__(self, rows: list[asyncpg.Record]) -> None:
        self.months = [r["month"] for r in rows]
        self.rows = {r["month"]: r for r in rows}
        self.running: dict[str, list[int]] = {}
        for name in _READ:
            total, out = 0, []
            for r in rows:
                total += r[name]
                out.append(total)
            self.running[name] = out

    def level(self, name: str, month: int) -> int:
        """The measure summed over every day up to the end of ``month``."""
        i = bisect.bisect_right(self.months, month)
        return self.running[name][i - 1] if i else 0

    def within(self, name: str, month: int) -> int:
        """The measure summed over the days of ``month``."""
        row = self.rows.get(month)
        return row[name] if row is not None else 0


async def relationship_figures(
    conn: asyncpg.Connection, schema: str, filters: PopulationFilters, now: date
) -> tuple[list[dict], dict]:
    """``lagging_over_time`` and ``cadence``, from the per-month sums the projector keeps
    (``projecting/projections/relationship_sums.py``): a few rows per month whatever the history's length.

    A month's sums give its figures at its last day; the month "now" falls in is measured at "now", so the
    changes of the days after "now" in that month are taken off again (``rel_sum_days``, one month at
    most). The meetings expected of relationships still open at "now" grow with it: they are added from the
    open relationships. ``start`` crops the series and selects the relationships cadence counts: the
    totals of those started from then are summed from their own days."""
    args: list = []
    where = _keyed(filters, "s", args)
    sums = _Sums(
        await conn.fetch(
            f"SELECT month, {', '.join(f'sum({m})::bigint AS {m}' for m in _READ)}"
            f" FROM {schema}.rel_sum_months s WHERE {where} GROUP BY month ORDER BY month",
            *args,
        )
    )
    month_end = _month_end(now)
    after = {m: 0 for m in _READ}  # the changes after "now" in its month
    if now < month_end:
        days = f"d.month = ${len(args) + 3} AND d.day > ${len(args) + 1} AND d.day <= ${len(args) + 2}"
        after |= await _changes(conn, schema, days, where, args, now, month_end, _month(now))
    first = filters.start or await _first_started(conn, schema, sums, where, args, now)
    points = month_points(first, now)
    lagging, over_time = [], []
    for label, month_start, day in points:
        month = _month(month_start)
        last = day == now  # the month "now" falls in: measured at "now"

        def at_day(name: str, month: int = month, last: bool = last) -> int:
            return sums.level(name, month) - (after[name] if last else 0)

        during = sums.level("lagging_before", month - 1) + sums.within("lagging_entered", month)
        lagging.append(
            {
                "month": label,
                "active": at_day("active"),
                "lagging_during_month": during - (after["lagging_entered"] if last else 0),
                "lagging_at_month_end": at_day("lagging_at"),
            }
        )
        keeping, agreed = at_day("keeping"), at_day("agreed")
        over_time.append(
            {
                "month": label,
                "meetings_held": sums.within("held", month) - (after["held"] if last else 0),
                "with_agreement": agreed,
                "keeping_cadence": keeping,
                "share_keeping": ratio(keeping, agreed),
            }
        )
    totals = await _cadence_totals(conn, schema, filters, sums, after, where, args, now)
    agreed, keeping = totals["agreed_by"], totals["keeping_by"]
    cadence = {
        "relationships_with_agreement": agreed,
        "without_agreement": totals["in_range"] - agreed,
        "meetings_held": totals["held_by"],
        "meetings_expected": totals["expected_by"],
        "keeping_cadence": keeping,
        "share_keeping": ratio(keeping, agreed),
        "behind_by_one": totals["behind_one"],
        "behind_by_two_or_more": totals["behind_two"],
        "over_time": over_time,
    }
    return lagging, cadence


async def _changes(
    conn: asyncpg.Connection, schema: str, days: str, where: str, args: list, *more: object
) -> dict[str, int]:
    """The relationships' changes on the days ``days`` selects, summed per measure (``rel_sum_days``)."""
    rows = await conn.fetch(
        f"SELECT d.measure, sum(d.change)::bigint AS change"
        f" FROM {schema}.rel_sum_days d JOIN {schema}.rel_sum_keys s USING (relationship_id)"
        f" WHERE {days} AND {where} GROUP BY d.measure",
        *args,
        *more,
    )
    return {r["measure"]: r["change"] for r in rows}


async def _first_started(
    conn: asyncpg.Connection, schema: str, sums: _Sums, where: str, args: list, now: date
) -> date | None:
    """The day the first of the filtered relationships started (to its month, unless that is "now"'s month,
    where the day decides whether it started by "now")."""
    month = next((m for m in sums.months if sums.within("started", m)), None)
    if month is None:
        return None
    first = date(month // 12, month % 12 + 1, 1)
    if month != _month(now):
        return first
    return await conn.fetchval(
        f"SELECT min(started_on) FROM {schema}.rel_sum_keys s"
        f" WHERE started_on BETWEEN ${len(args) + 1} AND ${len(args) + 2} AND {where}",
        *args,
        first,
        _month_end(first),
    )


async def _started_between(
    conn: asyncpg.Connection, schema: str, where: str, args: list, first: date, last: date, now: date
) -> dict[str, int]:
    """The cadence totals at "now" of the relationships started from ``first`` to ``last``, from their days."""
    totals = {m: 0 for m in _TOTALS}
    if first > last:
        return totals
    n = len(args)  # the months after "now"'s hold only days after it: left unread (``bench/reads.py``, period filters)
    days = f"s.started_on BETWEEN ${n + 1} AND ${n + 2} AND d.month <= ${n + 4} AND d.day <= ${n + 3}"
    changed = await _changes(conn, schema, days, where, args, first, last, now, _month(now))
    return totals | {m: v for m, v in changed.items() if m in totals}


async def _started_totals(conn: asyncpg.Connection, schema: str, start: date, now: date) -> dict[str, int]:
    """The cadence totals at "now" of every relationship started from ``start`` to "now": the whole months between
    from the sums per start month (``rel_sum_started``), less their changes after "now" in its month; the
    relationships of a month cropped by ``start`` or by "now" from their days. Summing the days of every relationship
    a period started took 0.65 s of a ``bench/reads.py --scale 0.3`` period filter's cold read."""
    first = _month(start) + (start.day != 1)  # the months whose every relationship counts
    last = _month(now) - 1  # those started in "now"'s month: by their days (started by "now" or not)
    if first > last:
        return await _started_between(conn, schema, "true", [], start, now, now)
    first_day, last_day = date(first // 12, first % 12 + 1, 1), _month_end(date(last // 12, last % 12 + 1, 1))
    row = await conn.fetchrow(
        f"SELECT {', '.join(f'coalesce(sum({m}), 0)::bigint AS {m}' for m in _TOTALS)}"
        f" FROM {schema}.rel_sum_started WHERE started_month BETWEEN $1 AND $2 AND month <= $3",
        first,
        last,
        _month(now),
    )
    totals = dict(row)
    if now < _month_end(now):
        after = await _changes(
            conn,
            schema,
            "s.started_on BETWEEN $1 AND $2 AND d.month = $3 AND d.day > $4",
            "true",
            [],
            first_day,
            last_day,
            _month(now),
            now,
        )
        for m in _TOTALS:
            totals[m] -= after.get(m, 0)
    for cropped in (
        await _started_between(conn, schema, "true", [], start, first_day - timedelta(days=1), now),
        await _started_between(conn, schema, "true", [], last_day + timedelta(days=1), now, now),
    ):
        for m in _TOTALS:
            totals[m] += cropped[m]
    return totals


async def _cadence_totals(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    sums: _Sums,
    after: dict[str, int],
    where: str,
    args: list,
    now: date,
) -> dict[str, int]:
    """The cadence totals at "now" of the relationships started by then (from ``start`` when given)."""
    n = len(args)
    if filters.start and where == "true":
        totals = await _started_totals(conn, schema, filters.start, now)
    elif filters.start:
        totals = await _started_between(conn, schema, where, args, filters.start, now, now)
    else:
        totals = {m: sums.level(m, _month(now)) - after[m] for m in _TOTALS}
    totals["expected_by"] += await conn.fetchval(
        f"SELECT coalesce(sum((${n + 1}::date - started_on) / (7 * cadence_weeks)), 0)::bigint"
        f" FROM {schema}.rel_sum_keys s WHERE closed_on IS NULL AND cadence_weeks > 0 AND signed_on <= ${n + 1}"
        f" AND started_on BETWEEN ${n + 2} AND ${n + 1} AND {where}",
        *args,
        now,
        filters.start or date.min,
    )
    return totals
