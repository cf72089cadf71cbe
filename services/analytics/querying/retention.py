"""Retention of participants vs non-participants by hire-year cohort, from HR facts by effective date.

Cohort = the year of a worker's original hire.  Both groups have one (non-participants have no
program year), so like is compared with like; note the survivorship it carries: someone who
joined the program years after being hired was necessarily retained through their first year.
A participant is a worker whose ``employee_id`` is on a mentor or mentee registration by "now".

- headcount: hired by "now"; leavers: not employed at "now";
- retained at 12 months: employed on the first anniversary of their hire, counted among those
  whose anniversary has passed (``eligible_12m``).
Employed on a day = hired (or rehired) on or before it, with no termination from that hire up to
the day before (a termination's effective date is the last day worked).  Rescinded facts count
for nothing.  Filters: ``department`` is the worker's HR department at "now", ``start``/``end``
bound the hire date; the registration-month ``cohort`` filter does not apply (cohorts are hire years).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import asyncpg

from services.analytics.querying.periods import PopulationFilters, cell, population, ratio, share_cell


@dataclass
class Worker:
    hires: list[date] = field(default_factory=list)
    terminations: list[date] = field(default_factory=list)
    departments: list[tuple[date, str]] = field(default_factory=list)

    def employed_on(self, day: date) -> bool:
        hired = [h for h in self.hires if h <= day]
        if not hired:
            return False
        return not any(max(hired) <= t < day for t in self.terminations)

    def department_on(self, day: date) -> str | None:
        known = sorted(d for d in self.departments if d[0] <= day)
        return known[-1][1] if known else None


def anniversary(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, month=3, day=1)


async def workers(conn: asyncpg.Connection, schema: str) -> dict[str, Worker]:
    found: dict[str, Worker] = defaultdict(Worker)
    for row in await conn.fetch(
        f"""SELECT employee_id, kind, on_date, department FROM {schema}.hr_facts f
            WHERE NOT EXISTS (SELECT 1 FROM {schema}.hr_rescinded r WHERE r.rescinded_event_id = f.event_id::text)"""
    ):
        worker = found[row["employee_id"]]
        if row["kind"] == "hire":
            worker.hires.append(row["on_date"])
        elif row["kind"] == "termination":
            worker.terminations.append(row["on_date"])
        else:
            worker.departments.append((row["on_date"], row["department"]))
    return found


def _group(people: list[Worker], now: date, min_cell: int) -> dict:
    headcount = len(people)
    if cell(headcount, min_cell) is None:
        return {
            "headcount": None,
            "leavers": None,
            "eligible_12m": None,
            "retained_12m": None,
            "retention_rate_12m": None,
        }
    leavers = sum(not w.employed_on(now) for w in people)
    eligible = [w for w in people if anniversary(min(w.hires)) <= now]
    retained = sum(w.employed_on(anniversary(min(w.hires))) for w in eligible)
    retained_cell = share_cell(retained, len(eligible), min_cell) if cell(len(eligible), min_cell) is not None else None
    return {
        "headcount": headcount,
        "leavers": share_cell(leavers, headcount, min_cell),
        "eligible_12m": cell(len(eligible), min_cell),
        "retained_12m": retained_cell,
        "retention_rate_12m": ratio(retained, len(eligible)) if retained_cell is not None else None,
    }


async def retention(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    min_cell: int,
    staff: dict[str, Worker] | None = None,
) -> dict:
    """``staff``: ``workers`` already read in this transaction (every worker; the dashboard reads them once)."""
    args: list = [now]
    of_program = population(filters, "participant_id", schema, args) if getattr(filters, "program", None) else "true"
    participants = {  # with a program filter: its members are the participants, everyone else is not
        r["employee_id"]
        for r in await conn.fetch(
            f"SELECT DISTINCT employee_id FROM {schema}.activity_roles"
            f" WHERE employee_id IS NOT NULL AND registered_on <= $1 AND {of_program}",
            *args,
        )
    }
    cohorts: dict[int, dict[bool, list[Worker]]] = defaultdict(lambda: {True: [], False: []})
    staff = staff if staff is not None else await workers(conn, schema)
    for employee_id, worker in staff.items():
        if not worker.hires:
            continue  # known only from a termination or a transfer: no cohort
        hired = min(worker.hires)
        if hired > now or (filters.start and hired < filters.start) or (filters.end and hired > filters.end):
            continue
        if filters.department and worker.department_on(now) != filters.department:
            continue
        cohorts[hired.year][employee_id in participants].append(worker)
    return {
        "as_of": now.isoformat(),
        "cohort_by": "hire_year",
        "cohorts": [
            {
                "cohort": str(year),
                "participants": _group(groups[True], now, min_cell),
                "non_participants": _group(groups[False], now, min_cell),
            }
            for year, groups in sorted(cohorts.items())
        ],
    }
