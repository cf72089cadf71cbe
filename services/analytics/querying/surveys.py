"""Survey figures (issue 18) per program and kind: response rates (answers / people asked) and results (the mean
of each scale question, the count of each choice), small cells withheld.

A (program, kind) with fewer than ``min_cell`` answers, or fewer than ``min_cell`` people asked who did not
answer, shows no count and no rate (the answered share could single someone out); a mean over fewer than
``min_cell`` answers and a choice chosen by fewer than ``min_cell`` are withheld (``None``).  Filters: the
program, and ``start``/``end`` on the day the survey opened (rates) or was answered (results).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from services.analytics.querying.periods import cell, ratio, share_cell

BY_PERSON = "not broken down by department or cohort (analytics keeps no respondent ids)"


def _where(filters: Any, day: str, args: list) -> str:
    clauses = ["true"]
    if getattr(filters, "program", None):
        args.append(filters.program)
        clauses.append(f"program_id = ${len(args)}")
    if getattr(filters, "start", None):
        args.append(filters.start)
        clauses.append(f"{day} >= ${len(args)}")
    if getattr(filters, "end", None):
        args.append(filters.end)
        clauses.append(f"{day} <= ${len(args)}")
    return " AND ".join(clauses)


async def survey_figures(conn: asyncpg.Connection, schema: str, filters: Any, min_cell: int) -> dict:
    """Rows are labelled ``survey`` = ``<program>/<kind>`` first (the CSV's flattening names a row by its first
    value)."""
    if getattr(filters, "department", None) or getattr(filters, "cohort", None):
        return {"min_cell": min_cell, "unavailable": BY_PERSON, "response_rates": [], "results": []}
    args: list = []
    where = _where(filters, "o.opened_on", args)
    rates = await conn.fetch(
        f"SELECT o.program_id, o.kind, sum(o.respondents)::int AS asked, sum(coalesce(a.n, 0))::int AS answered"
        f" FROM {schema}.surveys_opened o LEFT JOIN (SELECT survey_id, count(*) AS n FROM {schema}.surveys_answered"
        f" GROUP BY survey_id) a USING (survey_id) WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
        *args,
    )
    args = []
    where = _where(filters, "answered_on", args)
    scores = await conn.fetch(
        f"SELECT a.program_id, a.kind, s.question_id, count(*)::int AS n, avg(s.score)::float AS mean"
        f" FROM {schema}.surveys_answered a JOIN {schema}.surveys_scores s USING (event_id) WHERE {where}"
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        *args,
    )
    choices = await conn.fetch(
        f"SELECT a.program_id, a.kind, c.question_id, c.option, count(*)::int AS n"
        f" FROM {schema}.surveys_answered a JOIN {schema}.surveys_choices c USING (event_id) WHERE {where}"
        " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        *args,
    )
    answers = await conn.fetch(
        f"SELECT program_id, kind, count(*)::int AS n FROM {schema}.surveys_answered WHERE {where} GROUP BY 1, 2",
        *args,
    )
    results: dict[tuple[str, str], dict] = {
        (r["program_id"], r["kind"]): {
            "survey": f"{r['program_id']}/{r['kind']}",
            "program_id": r["program_id"],
            "kind": r["kind"],
            "answers": cell(r["n"], min_cell),
            "scores": [],
            "choices": {},
        }
        for r in answers
    }
    for r in scores:
        withheld = cell(r["n"], min_cell) is None
        results[(r["program_id"], r["kind"])]["scores"].append(
            {
                "question_id": r["question_id"],
                "answers": cell(r["n"], min_cell),
                "mean": None if withheld else round(r["mean"], 2),
            }
        )
    for r in choices:
        counts = results[(r["program_id"], r["kind"])]["choices"].setdefault(r["question_id"], {})
        counts[r["option"]] = cell(r["n"], min_cell)
    return {
        "min_cell": min_cell,
        "response_rates": [_rate(r, min_cell) for r in rates],
        "results": [
            {**v, "choices": [{"question_id": q, "counts": c} for q, c in sorted(v["choices"].items())]}
            for _, v in sorted(results.items())
        ],
    }


def _rate(row: asyncpg.Record, min_cell: int) -> dict:
    answered = share_cell(row["answered"], row["asked"], min_cell)
    return {
        "survey": f"{row['program_id']}/{row['kind']}",
        "program_id": row["program_id"],
        "kind": row["kind"],
        "asked": cell(row["asked"], min_cell),
        "answered": answered,
        "response_rate": None if answered is None else ratio(row["answered"], row["asked"]),
    }
