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
from typing import NamedTuple

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


class Standing(NamedTuple):
    """What the figures ask of a hired worker at a "now": their first hire and its year, their HR department at
    "now", employed at "now", first anniversary passed by "now" (``eligible``), employed on that anniversary."""

    hired: date
    year: int
    department: str | None
    employed: bool
    eligible: bool
    retained: bool


class _Settled(NamedTuple):
    """A worker's standing that no "now" changes: the first hire, its anniversary, employed on it; and, for any
    "now" after the worker's last fact (``settled``), employed then and the department then."""

    hired: date
    anniversary: date
    retained: bool
    settled: date
    employed_after: bool
    department_after: str | None


def _settle(worker: Worker) -> _Settled:
    hired = min(worker.hires)
    first = anniversary(hired)
    last = max([*worker.hires, *worker.terminations, *(d for d, _ in worker.departments)])
    return _Settled(
        hired, first, worker.employed_on(first), last, worker.employed_on(date.max), worker.department_on(date.max)
    )


def standing(worker: Worker, now: date) -> Standing:
    """``worker``'s standing at ``now`` (a worker with a hire), worked out from their facts."""
    hired = min(worker.hires)
    first = anniversary(hired)
    return Standing(
        hired,
        hired.year,
        worker.department_on(now),
        worker.employed_on(now),
        first <= now,
        first <= now and worker.employed_on(first),
    )


class Staff:
    """Every HR worker (``workers``) and their standings at each "now" asked, worked out once.

    The dashboard reads every worker for retention and evaluation: at 100,000 staff, reading them and
    working out each one's standing took most of a computed dashboard (``bench/reads.py``). ``Reads`` keeps a
    ``Staff`` while the generation's checkpoints stand still, so each filter's figures reuse it; a "now"
    after a worker's last fact gives the standing settled once (``_Settled``), any other is worked out again."""

    KEPT = 16
    """Standings kept, by "now" (the generation's "now" and each period filter's end)."""

    def __init__(self, found: dict[str, Worker]) -> None:
        self.workers = found
        self._settled = {e: (w, _settle(w)) for e, w in found.items() if w.hires}
        self._at: dict[date, dict[str, Standing]] = {}

    def at(self, now: date) -> dict[str, Standing]:
        """Every worker hired by ``now`` (known from a hire: a termination or transfer alone has no cohort),
        with their standing at ``now``."""
        kept = self._at.get(now)
        if kept is None:
            kept = {}
            for employee_id, (worker, s) in self._settled.items():
                if s.hired > now:
                    continue
                eligible = s.anniversary <= now
                if now > s.settled:
                    kept[employee_id] = Standing(
                        s.hired, s.hired.year, s.department_after, s.employed_after, eligible, eligible and s.retained
                    )
                else:
                    kept[employee_id] = standing(worker, now)
            while len(self._at) >= self.KEPT:
                self._at.pop(next(iter(self._at)))
            self._at[now] = kept
        return kept


async def read_staff(conn: asyncpg.Connection, schema: str) -> Staff:
    return Staff(await workers(conn, schema))


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
    return _counted([standing(w, now) for w in people], min_cell)


def _counted(people: list[Standing], min_cell: int) -> dict:
    headcount = len(people)
    if cell(headcount, min_cell) is None:
        return {
            "headcount": None,
            "leavers": None,
            "eligible_12m": None,
            "retained_12m": None,
            "retention_rate_12m": None,
        }
    leavers = sum(not s.employed for s in people)
    eligible = sum(s.eligible for s in people)
    retained = sum(s.retained for s in people)
    retained_cell = share_cell(retained, eligible, min_cell) if cell(eligible, min_cell) is not None else None
    return {
        "headcount": headcount,
        "leavers": share_cell(leavers, headcount, min_cell),
        "eligible_12m": cell(eligible, min_cell),
        "retained_12m": retained_cell,
        "retention_rate_12m": ratio(retained, eligible) if retained_cell is not None else None,
    }


async def retention(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    min_cell: int,
    staff: Staff | None = None,
) -> dict:
    """``staff``: the workers already read in this snapshot (``Staff``; the dashboard reads them once)."""
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
    cohorts: dict[int, dict[bool, list[Standing]]] = defaultdict(lambda: {True: [], False: []})
    staff = staff if staff is not None else await read_staff(conn, schema)
    for employee_id, s in hired_by(staff, filters, now):
        cohorts[s.year][employee_id in participants].append(s)
    return {
        "as_of": now.isoformat(),
        "cohort_by": "hire_year",
        "cohorts": [
            {
                "cohort": str(year),
                "participants": _counted(groups[True], min_cell),
                "non_participants": _counted(groups[False], min_cell),
            }
            for year, groups in sorted(cohorts.items())
        ],
    }


def hired_by(staff: Staff, filters: PopulationFilters, now: date) -> list[tuple[str, Standing]]:
    """The workers hired by ``now`` whom the filters select: hired within ``start``/``end``, in the HR
    ``department`` at ``now``."""
    start, end, department = filters.start, filters.end, filters.department
    return [
        (employee_id, s)
        for employee_id, s in staff.at(now).items()
        if not ((start and s.hired < start) or (end and s.hired > end) or (department and s.department != department))
    ]
