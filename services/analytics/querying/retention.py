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

import bisect
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, TypeVar

import asyncpg

from services.analytics.querying.periods import PopulationFilters, cell, population, ratio, share_cell

T = TypeVar("T")


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
    "now", employed at "now", first anniversary passed by "now" (``eligible``), employed on that anniversary,
    promoted between their first hire and "now"."""

    hired: date
    year: int
    department: str | None
    employed: bool
    eligible: bool
    retained: bool
    promoted: bool = False


TALLIED = ("headcount", "leavers", "eligible", "retained", "promoted")
"""What is counted of a group of workers (``tally``): the figures of retention and promotion."""
HEADCOUNT, LEAVERS, ELIGIBLE, RETAINED, PROMOTED = range(len(TALLIED))


def tally(people: list[Standing]) -> list[int]:
    counts = [0] * len(TALLIED)
    for s in people:
        _add(counts, s)
    return counts


def _add(counts: list[int], s: Standing, sign: int = 1) -> None:
    counts[HEADCOUNT] += sign
    counts[LEAVERS] += sign * (not s.employed)
    counts[ELIGIBLE] += sign * s.eligible
    counts[RETAINED] += sign * s.retained
    counts[PROMOTED] += sign * s.promoted


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


def _make_room(kept: dict[Any, Any], limit: int) -> None:
    """Drop the oldest entries of ``kept`` (insertion order) until one more fits under ``limit``: what ``Staff``
    keeps per "now" and per question stays bounded."""
    while len(kept) >= limit:
        kept.pop(next(iter(kept)))


def _first_promotion(worker: Worker, promotions: Iterable[date]) -> date | None:
    """The first promotion on or after the worker's first hire: promoted by a "now" when it is on or before it (a
    test of each promotion per worker and "now" took a third of a period filter's cold read, ``bench/reads.py``)."""
    hired = min(worker.hires)
    return min((d for d in promotions if d >= hired), default=None)


def standing(worker: Worker, now: date, promotions: Iterable[date] = ()) -> Standing:
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
        any(hired <= d <= now for d in promotions),
    )


class Staff:
    """Every HR worker (``workers``, with their promotions) and their standings at each "now" asked, worked out
    once, with the tallies of the workers per HR department and hire year.

    The dashboard reads every worker for retention and evaluation: at 100,000 staff, reading them and working out
    each one's standing at each read took most of a computed dashboard (``bench/reads.py``). ``Reads`` keeps a
    ``Staff`` while the generation's checkpoints stand still, so each filter's figures reuse it; a "now" after a
    worker's last fact gives the standing settled once (``_Settled``), any other is worked out again. A filter
    without a hire-date bound adds up the tallies of its department and goes through the participants only."""

    KEPT = 3
    """Standings kept, by "now", the least recently asked dropped first: the generation's "now" (most filters')
    and a period filter's end or two (a "now" holds a standing per worker: tens of MB at 100,000 staff)."""

    def __init__(self, found: dict[str, Worker], promotions: dict[str, list[date]]) -> None:
        self.workers, self.promotions = found, promotions
        self._settled = {
            e: (w, _settle(w), _first_promotion(w, promotions.get(e, ()))) for e, w in found.items() if w.hires
        }
        self._at: dict[date, tuple[dict[str, Standing], dict[tuple[str | None, int], list[int]]]] = {}
        self._some: dict[date, dict[str, Standing | None]] = {}
        by_hire = sorted((s.hired, e) for e, (_, s, _) in self._settled.items())
        self._hires, self._by_hire = [h for h, _ in by_hire], [e for _, e in by_hire]
        self._kept: dict[Hashable, Any] = {}
        self._tallied: dict[tuple, tuple[dict, dict]] = {}

    async def kept(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """What ``compute()`` finds, kept under ``key`` with the workers (read in the same snapshot, it holds while
        they do): the ``KEPT`` most recently asked; ``compute`` runs only when nothing is kept."""
        if key in self._kept:
            found = self._kept.pop(key)
        else:
            found = await compute()
            _make_room(self._kept, self.KEPT)
        self._kept[key] = found  # the most recently asked last
        return found

    def at(self, now: date) -> dict[str, Standing]:
        """Every worker hired by ``now`` (known from a hire: a termination or transfer alone has no cohort),
        with their standing at ``now``."""
        return self._standings(now)[0]

    def standing_of(self, employee_id: str, now: date) -> Standing | None:
        """``employee_id``'s standing at ``now`` (None: not hired by then), without working out every worker's: a
        period filter's "now" asks for the workers hired in the period and the participants only (working out all
        100,000 standings took a third of a period filter's cold read, ``bench/reads.py --scale 1``)."""
        kept = self._at.get(now)
        if kept is not None:
            return kept[0].get(employee_id)
        some = self._some.get(now)
        if some is None:
            _make_room(self._some, self.KEPT)
            some = self._some[now] = {}
        if employee_id not in some:
            entry = self._settled.get(employee_id)
            some[employee_id] = None if entry is None or entry[1].hired > now else self._standing(employee_id, now)
        return some[employee_id]

    def retained(self, employee_id: str, now: date) -> bool | None:
        """Employed on their first anniversary, for a worker whose anniversary has passed by ``now`` (None: not
        hired, or the anniversary not passed): ``standing_of(employee_id, now).retained`` when it is ``eligible``,
        without a standing. Neither depends on facts after "now" but through the first hire, so each is settled
        once (``_Settled``): the priority and demographic breakdowns ask it of every registered employee, and a
        standing apiece took 180 ms of CPU per unfiltered or period read (``bench/reads.py --scale 1``)."""
        entry = self._settled.get(employee_id)
        if entry is None or entry[1].anniversary > now:
            return None
        return entry[1].retained

    def tallies_of(
        self, now: date, among: set[str], besides: frozenset[str] = frozenset()
    ) -> tuple[dict[tuple[str | None, int], list[int]], dict[tuple[str | None, int], list[int]]]:
        """The tallies per (HR department at ``now``, hire year) of the workers hired by ``now`` ``among`` the given
        employees, and of those ``besides`` them (not among), kept for the ``KEPT`` latest asked: retention and
        promotion ask them of the same registered employees for every department and cohort filter (a standing
        apiece, per filter and twice, took 70 ms of CPU of a department filter's read, ``bench/reads.py --scale 1``)."""
        key = (now, frozenset(among), besides)
        found = self._tallied.pop(key, None)
        if found is None:
            found = ({}, {})
            for employee_id in among | besides:
                s = self.standing_of(employee_id, now)
                if s is not None:
                    tallied = found[0] if employee_id in among else found[1]
                    counts = tallied.get((s.department, s.year))
                    if counts is None:
                        counts = tallied[s.department, s.year] = [0] * len(TALLIED)
                    _add(counts, s)
            _make_room(self._tallied, self.KEPT)
        self._tallied[key] = found  # the most recently asked last
        return found

    def hired_between(self, first: date | None, last: date) -> list[str]:
        """The workers first hired from ``first`` (None: from the first hire) to ``last``, both included."""
        low = 0 if first is None else bisect.bisect_left(self._hires, first)
        return self._by_hire[low : bisect.bisect_right(self._hires, last)]

    def _standing(self, employee_id: str, now: date) -> Standing:
        """The standing at ``now`` of a worker hired by then."""
        worker, s, promoted_on = self._settled[employee_id]
        if now > s.settled:
            eligible = s.anniversary <= now
            promoted = promoted_on is not None and promoted_on <= now
            return Standing(
                s.hired, s.hired.year, s.department_after, s.employed_after, eligible, eligible and s.retained, promoted
            )
        return standing(worker, now, self.promotions.get(employee_id, ()))

    def tallies(self, now: date) -> dict[tuple[str | None, int], list[int]]:
        """The tally of the workers hired by ``now`` per (HR department at ``now``, hire year)."""
        return self._standings(now)[1]

    def _standings(self, now: date) -> tuple[dict[str, Standing], dict[tuple[str | None, int], list[int]]]:
        kept = self._at.pop(now, None)
        if kept is not None:
            self._at[now] = kept  # the most recently asked last
            return kept
        standings: dict[str, Standing] = {}
        tallies: dict[tuple[str | None, int], list[int]] = defaultdict(lambda: [0] * len(TALLIED))
        for employee_id, (_, s, _) in self._settled.items():
            if s.hired > now:
                continue
            found = self._standing(employee_id, now)
            standings[employee_id] = found
            _add(tallies[found.department, found.year], found)
        _make_room(self._at, self.KEPT)
        self._at[now] = kept = (standings, dict(tallies))
        return kept


async def read_staff(conn: asyncpg.Connection, schema: str) -> Staff:
    return Staff(await workers(conn, schema), await _promotions(conn, schema))


async def _promotions(conn: asyncpg.Connection, schema: str) -> dict[str, list[date]]:
    """Each worker's job-level changes by effective date (``eval_promotions``), rescinded ones left out."""
    found: dict[str, list[date]] = defaultdict(list)
    for row in await conn.fetch(
        f"""SELECT employee_id, on_date FROM {schema}.eval_promotions f
            WHERE NOT EXISTS (SELECT 1 FROM {schema}.hr_rescinded r WHERE r.rescinded_event_id = f.event_id::text)"""
    ):
        found[row["employee_id"]].append(row["on_date"])
    return found


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
    return _counted(tally([standing(w, now) for w in people]), min_cell)


def _counted(counts: list[int], min_cell: int) -> dict:
    headcount = counts[HEADCOUNT]
    if cell(headcount, min_cell) is None:
        return {
            "headcount": None,
            "leavers": None,
            "eligible_12m": None,
            "retained_12m": None,
            "retention_rate_12m": None,
        }
    leavers, eligible, retained = counts[LEAVERS], counts[ELIGIBLE], counts[RETAINED]
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
    staff = staff if staff is not None else await read_staff(conn, schema)
    return {
        "as_of": now.isoformat(),
        "cohort_by": "hire_year",
        "cohorts": [
            {
                "cohort": str(year),
                "participants": _counted(inside, min_cell),
                "non_participants": _counted(rest, min_cell),
            }
            for year, (inside, rest) in cohorts(staff, filters, now, participants).items()
        ],
    }


def cohorts(
    staff: Staff, filters: PopulationFilters, now: date, among: set[str], besides: frozenset[str] = frozenset()
) -> dict[int, tuple[list[int], list[int]]]:
    """Per hire year, in order, of the workers hired by ``now`` whom the filters select (hired within
    ``start``/``end``, in the HR ``department`` at ``now``): the tally of those ``among`` the given employees,
    and of the rest (leaving out those ``besides``, in neither). A year with neither is left out."""
    start, end, department = filters.start, filters.end, filters.department
    zero = [0] * len(TALLIED)
    inside: dict[int, list[int]] = defaultdict(lambda: list(zero))
    rest: dict[int, list[int]] = defaultdict(lambda: list(zero))
    if start or end:  # bounds on the hire date: worker by worker, those hired within them
        for employee_id in staff.hired_between(start, min(end, now) if end else now):
            s = staff.standing_of(employee_id, now)
            if s is None or (department and s.department != department):
                continue
            if employee_id in among:
                _add(inside[s.year], s)
            elif employee_id not in besides:
                _add(rest[s.year], s)
    else:  # the department's tallies, less those among the given employees (or besides them)
        of_among, of_besides = staff.tallies_of(now, among, besides)
        for (of, year), counts in staff.tallies(now).items():
            if not department or of == department:
                rest[year] = [a + b for a, b in zip(rest[year], counts, strict=True)]
        for tallied, inside_too in ((of_among, True), (of_besides, False)):
            for (of, year), counts in tallied.items():
                if not department or of == department:
                    rest[year] = [a - b for a, b in zip(rest[year], counts, strict=True)]
                    if inside_too:
                        inside[year] = [a + b for a, b in zip(inside[year], counts, strict=True)]
    years = sorted(year for year in {*inside, *rest} if inside[year][HEADCOUNT] or rest[year][HEADCOUNT])
    return {year: (inside[year], rest[year]) for year in years}
