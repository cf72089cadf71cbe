"""Program-evaluation figures from the program facts, filtered, with small cells suppressed.

Any breakdown cell counting fewer than ``min_cell`` people is withheld (``None``)
in the page, the JSON and the CSV alike, so no individual can be singled out;
a department, cohort or program filter that selects fewer than ``min_cell``
participants withholds every figure.

The ``program`` filter: requests and relationships of that program (a version-1 event, from before
programs, belongs to ``"default"``), its people (``program_members``), survey answers about its
relationships, mentor load from its relationships.  ``program_comparison`` puts the headline figures of
every program side by side, one row per program.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from services.analytics.querying.evaluation import evaluation_figures
from services.analytics.querying.mentor_load import mentor_load
from services.analytics.querying.periods import as_of, cell, population
from services.analytics.querying.retention import Staff, read_staff, retention
from services.analytics.querying.surveys import survey_figures
from services.analytics.querying.trends import participants_over_time, relationship_figures


@dataclass(frozen=True)
class Filters:
    department: str | None = None
    cohort: str | None = None
    start: date | None = None
    end: date | None = None
    program: str | None = None


def _where(filters: Filters, column_time: str, person: str, schema: str) -> tuple[str, list]:
    """SQL conditions on a fact's time column and on the department/cohort of the person it is about."""
    clauses, args = [], []
    if filters.start:
        args.append(filters.start)
        clauses.append(f"{column_time}::date >= ${len(args)}")
    if filters.end:
        args.append(filters.end)
        clauses.append(f"{column_time}::date <= ${len(args)}")
    clauses.append(population(filters, person, schema, args))
    return " AND ".join(clauses), args


async def program_figures(
    conn: asyncpg.Connection,
    schema: str,
    filters: Filters,
    min_cell: int = 5,
    staff: Staff | None = None,
    aside: asyncpg.Connection | None = None,
) -> dict:
    """``staff``: the HR workers already read in this snapshot (``retention.Staff``), else read here. ``aside``: a
    second connection in the same snapshot (``SET TRANSACTION SNAPSHOT``), on which the evaluation figures are
    worked out while ``conn`` works out the rest: the same queries on the same data, Postgres and Python each
    busy while the other waits (``bench/reads.py``: the computed dashboard's latency)."""
    people_where, people_args = _where(filters, "registered_at", "participant_id", schema)
    people = await conn.fetch(
        f"SELECT is_mentor, is_mentee, department, capacity, left_on FROM {schema}.participants WHERE " + people_where,
        *people_args,
    )
    if (filters.department or filters.cohort or filters.program) and len(people) < min_cell:
        return {
            "suppressed": True,
            "reason": f"fewer than {min_cell} participants match the filter",
            "filters": _filters_json(filters),
            "min_cell": min_cell,
        }
    now, evaluation = await as_of(conn, schema, filters), None
    if aside is not None:
        staff = staff if staff is not None else await read_staff(conn, schema)
        evaluation = asyncio.ensure_future(
            evaluation_figures(aside, schema, filters, now, min_cell, filters.program, staff)
        )
    try:
        return {
            "filters": _filters_json(filters),
            "min_cell": min_cell,
            "participants": _participants(people, min_cell),
            "requests": await _requests(conn, schema, filters),
            "relationships": await _relationships(conn, schema, filters, min_cell),
            "satisfaction": await _satisfaction(conn, schema, filters, min_cell),
            "surveys": await survey_figures(conn, schema, filters, min_cell),
            **await dated_figures(conn, schema, filters, min_cell, now, staff, evaluation),
        }
    finally:
        if evaluation is not None and not evaluation.done():  # an error on ``conn``: nothing left running on ``aside``
            evaluation.cancel()
            await asyncio.gather(evaluation, return_exceptions=True)


async def dated_figures(
    conn: asyncpg.Connection,
    schema: str,
    filters: Filters,
    min_cell: int,
    now: date,
    staff: Staff | None = None,
    evaluation: Awaitable[dict] | None = None,
) -> dict:
    """Figures over time and as at ``now`` (``periods.as_of``: the generation's latest event, or the ``end``
    filter). ``evaluation``: the evaluation figures being worked out elsewhere (``program_figures``' ``aside``),
    else worked out here."""
    lagging, cadence = await relationship_figures(conn, schema, filters, now)
    staff = staff if staff is not None else await read_staff(conn, schema)  # retention and evaluation read them once
    return {
        "as_of": now.isoformat(),
        "participants_over_time": await participants_over_time(conn, schema, filters, now),
        "mentor_load": await mentor_load(conn, schema, filters, now, min_cell),
        "lagging_over_time": lagging,
        "cadence": cadence,
        "retention": await retention(conn, schema, filters, now, min_cell, staff),
        "evaluation": await evaluation
        if evaluation is not None
        else await evaluation_figures(conn, schema, filters, now, min_cell, filters.program, staff),
    }


def _participants(rows: list[asyncpg.Record], min_cell: int) -> dict:
    by_department: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = by_department.setdefault(row["department"] or "unknown", {"mentors": 0, "mentees": 0})
        counts["mentors"] += row["is_mentor"]
        counts["mentees"] += row["is_mentee"]
    return {
        "mentors": sum(r["is_mentor"] for r in rows),
        "mentees": sum(r["is_mentee"] for r in rows),
        "left_institution": sum(r["left_on"] is not None for r in rows),
        "mentor_capacity": sum(r["capacity"] for r in rows if r["is_mentor"] and r["left_on"] is None),
        "by_department": [
            {"department": name, **{k: cell(v, min_cell) for k, v in counts.items()}}
            for name, counts in sorted(by_department.items())
        ],
    }


async def _requests(conn: asyncpg.Connection, schema: str, filters: Filters) -> dict:
    """Counted by Postgres, the time to match's quantiles taken by it (``percentile_disc``: the nearest rank,
    as ``_quantile``) instead of a Python row per request (``bench/reads.py``: the rows grow with the history)."""
    where, args = _where(filters, "ranked_at", "mentee_id", schema)
    if filters.program:
        args.append(filters.program)
        where += f" AND coalesce(program_id, 'default') = ${len(args)}"
    row = await conn.fetchrow(  # a request counts once its RequestRanked has been seen
        f"""SELECT count(*) AS submitted, count(*) FILTER (WHERE approved) AS approved,
                   count(*) FILTER (WHERE NOT approved) AS declined, count(matched_at) AS matched,
                   count(*) FILTER (WHERE unmatched) AS unmatched, count(*) FILTER (WHERE withdrawn) AS withdrawn,
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY matched_at - ranked_at) AS median,
                   percentile_disc(0.9) WITHIN GROUP (ORDER BY matched_at - ranked_at) AS p90,
                   {", ".join(f"count(matched_at) FILTER (WHERE choice_rank = {k}) AS rank{k}" for k in (1, 2, 3))}
            FROM {schema}.requests WHERE ranked_at IS NOT NULL AND """
        + where,
        *args,
    )
    submitted, matched = row["submitted"], row["matched"]
    return {
        "submitted": submitted,
        "approved": row["approved"],
        "declined": row["declined"],
        "matched": matched,
        "unmatched": row["unmatched"],
        "withdrawn": row["withdrawn"],
        "match_rate": round(matched / submitted, 4) if submitted else None,
        "time_to_match_hours": {"median": _hours(row["median"]), "p90": _hours(row["p90"])},
        "matched_by_choice_rank": {str(k): row[f"rank{k}"] for k in (1, 2, 3)},
    }


def _hours(span: timedelta | None) -> float | None:
    return None if span is None else round(span.total_seconds() / 3600, 2)


async def _relationships(conn: asyncpg.Connection, schema: str, filters: Filters, min_cell: int) -> dict:
    """Counted by Postgres (the median duration the nearest rank, as ``_quantile``), the closures per reason in the
    same pass (grouping sets: one scan of the relationships instead of two, ``bench/reads.py``)."""
    where, args = _where(filters, "started_on", "mentee_ids[1]", schema)
    if filters.program:
        args.append(filters.program)
        where += f" AND program_id = ${len(args)}"
    rows = await conn.fetch(
        f"""SELECT grouping(closure_reason) AS overall, closure_reason,
                   count(*) AS started, count(closed_on) AS closed, count(*) FILTER (WHERE lagging) AS lagging_now,
                   count(*) FILTER (WHERE lagging_spells > 0) AS ever_lagging, count(signed_on) AS signed,
                   coalesce(sum(meetings), 0) AS meetings, coalesce(sum(goals_set), 0) AS goals_set,
                   coalesce(sum(goals_achieved), 0) AS goals_achieved,
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY closed_on - started_on) AS median_duration
            FROM {schema}.program_relationships WHERE """
        + where
        + " GROUP BY GROUPING SETS ((), (closure_reason))",
        *args,
    )
    row = next(r for r in rows if r["overall"])
    reasons = {r["closure_reason"]: r["closed"] for r in rows if not r["overall"] and r["closed"]}
    started, closed = row["started"], row["closed"]
    return {
        "started": started,
        "active": started - closed,
        "lagging_now": row["lagging_now"],
        "ever_lagging": row["ever_lagging"],
        "agreements_signed": row["signed"],
        "meetings_per_relationship": round(row["meetings"] / started, 2) if started else None,
        "goals_set": row["goals_set"],
        "goals_achieved": row["goals_achieved"],
        "closed": closed,
        "closure_reasons": {k: cell(v, min_cell) for k, v in sorted(reasons.items())},
        "median_duration_days": row["median_duration"],
    }


async def _satisfaction(conn: asyncpg.Connection, schema: str, filters: Filters, min_cell: int) -> dict:
    """Counted by Postgres, an answer selected by its relationship's mentee (a correlated subquery per answer
    took 0.19 s of a computed dashboard at ``bench/reads.py --scale 0.1``, EXPLAIN ANALYZE): the relationships of
    the filtered people first, then their answers (every answer joined to every relationship, then filtered, took
    0.75 s of a department's read at ``--scale 1``, EXPLAIN ANALYZE); no relationship is read without a filter."""
    where, args = _where(Filters(start=filters.start, end=filters.end), "a.answered_at", "", schema)
    people = population(filters, "r.mentee_ids[1]", schema, args)
    if filters.program:  # the relationship in the program (``periods.in_program``), in the same semi-join
        args.append(filters.program)
        people += f" AND r.program_id = ${len(args)}"
    if people != "true":
        # one semi-join for both (a second over program_relationships took a third of a program's read of this,
        # bench/reads.py --scale 1, EXPLAIN ANALYZE)
        where += (
            f" AND a.relationship_id IN (SELECT r.relationship_id FROM {schema}.program_relationships r WHERE {people})"
        )
    row = await conn.fetchrow(
        f"""SELECT count(*) AS answers, sum(a.satisfaction) AS satisfaction,
                   {", ".join(f"count(*) FILTER (WHERE a.satisfaction = {k}) AS s{k}" for k in range(1, 6))},
                   count(*) FILTER (WHERE a.goals_met) AS goals_met,
                   count(*) FILTER (WHERE a.would_recommend) AS would_recommend
            FROM {schema}.survey_answers a
            WHERE """
        + where,
        *args,
    )
    answers = row["answers"]
    if answers < min_cell:
        return {"answers": answers, "suppressed": True}
    if not answers:  # min_cell 0 shows even an empty cell: no answers have no mean
        return {"answers": 0, "suppressed": False}
    return {
        "answers": answers,
        "mean": round(row["satisfaction"] / answers, 2),
        "distribution": {str(k): cell(row[f"s{k}"], min_cell) for k in range(1, 6)},
        "goals_met_rate": round(row["goals_met"] / answers, 4),
        "would_recommend_rate": round(row["would_recommend"] / answers, 4),
    }


async def programs(conn: asyncpg.Connection, schema: str) -> list[dict]:
    """Every program the generation has seen (``default`` among them once any request or relationship is
    about it), with its name and model when a ProgramDefined/ProgramChanged gave them."""
    rows = await conn.fetch(f"SELECT program_id, name, model FROM {schema}.programs ORDER BY program_id")
    return [dict(r) for r in rows]


COMPARED = (
    ("participants", "mentors"),
    ("participants", "mentees"),
    ("requests", "submitted"),
    ("requests", "matched"),
    ("requests", "match_rate"),
    ("relationships", "started"),
    ("relationships", "active"),
    ("relationships", "lagging_now"),
    ("relationships", "closed"),
    ("relationships", "goals_achieved"),
    ("satisfaction", "mean"),
)
"""The headline figures the comparison puts side by side (section, figure)."""


async def program_comparison(conn: asyncpg.Connection, schema: str, filters: Filters, min_cell: int = 5) -> dict:
    """One row per program: its headline figures (the same as the dashboard filtered by that program, with the
    other filters applied), and its groups formed.  A program selecting fewer than ``min_cell`` people has
    every figure withheld (``suppressed``); counts of people below ``min_cell`` are withheld as anywhere."""
    rows = []
    staff = await read_staff(conn, schema)
    for program in await programs(conn, schema):
        figures = await program_figures(conn, schema, _with_program(filters, program["program_id"]), min_cell, staff)
        row: dict = {**program, "suppressed": bool(figures.get("suppressed"))}
        if row["suppressed"]:
            rows.append(row)
            continue
        for section, name in COMPARED:
            value = figures[section].get(name)
            row[f"{section}.{name}"] = cell(value, min_cell) if section == "participants" else value
        row["median_time_to_match_hours"] = figures["requests"]["time_to_match_hours"]["median"]
        row["groups_formed"] = await conn.fetchval(
            f"SELECT count(*) FROM {schema}.program_groups WHERE program_id = $1", program["program_id"]
        )
        rows.append(row)
    return {"filters": _filters_json(filters), "min_cell": min_cell, "programs": rows}


def _with_program(filters: Filters, program: str) -> Filters:
    return Filters(filters.department, filters.cohort, filters.start, filters.end, program)


def _quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile of sorted values: the rule of ``percentile_disc``, which the queries use."""
    if not values:
        return None
    rank = max(1, -(-len(values) * q // 1))
    return round(values[int(rank) - 1], 2)


def _filters_json(filters: Filters) -> dict:
    """The filters as JSON; ``program`` only when one is selected (the figures of all programs read as before)."""
    return {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in vars(filters).items()
        if k != "program" or v is not None
    }


def figures_as_rows(figures: dict, prefix: str = "") -> list[tuple[str, object]]:
    """Flatten the figures for CSV: (dotted name, value); suppressed cells stay empty."""
    rows: list[tuple[str, object]] = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += figures_as_rows(value, f"{name}.")
        elif isinstance(value, list):
            for item in value:
                label = next(iter(item.values()))
                rows += figures_as_rows({k: v for k, v in list(item.items())[1:]}, f"{name}[{label}].")
        else:
            rows.append((name, value))
    return rows
