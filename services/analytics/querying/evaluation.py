"""The evaluation figures directors ask for (issue 18): promotion beside retention, mentor responsiveness,
fast starts or lagging, breakdowns by priority group and by consented demographics. Every query takes
``program`` (a program id, or None for all): facts carry the program of their event
(``projecting/projections/evaluation.py``).

Demographics are personal and reach analytics sealed, with no key to open them: analytics computes the groups
(participant ids) from its own facts (``demographic_groups``) and profiles counts each group's consented answers,
withholding small cells itself (``by_demographics``, through a ``DemographicsSource``); analytics never holds one
person's category.

Units: JSON keeps raw numbers, named by their unit (``*_days`` in days, ``*_rate`` a fraction of 1) and
listed in ``UNITS``; the page formats them ("42 %", "12 days").

Small cells (``min_cell``): every count of people in a breakdown is withheld when small, a count whose
complement is small too (promoted of a headcount), and a rate or median built on a withheld group.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, Protocol, TypeVar

import asyncpg

from services.analytics.querying.periods import PopulationFilters, cell, next_day, population, ratio, share_cell
from services.analytics.querying.retention import HEADCOUNT, PROMOTED, Staff, cohorts, read_staff

T = TypeVar("T")


@dataclass(frozen=True)
class _People:
    """The person filters (department, cohort) without ``program``: each query applies the program to its own
    facts (a request's, a relationship's), not to the people (``periods.population`` would)."""

    department: str | None
    cohort: str | None
    start: date | None
    end: date | None


def _people(filters: PopulationFilters) -> _People:
    return _People(filters.department, filters.cohort, filters.start, filters.end)


UNITS = {
    "*_days": "days",
    "*_rate": "fraction of 1 (0.42 = 42 %)",
    "counts": "people or requests",
}
FAST_DAYS = 30
"""A start is fast when the agreement is signed (or the first meeting held) within this many days of the match."""
ANSWER_BANDS = ("within_1_day", "1_to_3_days", "3_to_7_days", "over_7_days", "no_answer")
ANSWERED_BANDS = ("all", "half_or_more", "under_half", "none")


def median(values: list[float]) -> float | None:
    """The median (mean of the two middle values for an even count), rounded to 2 decimals."""
    if not values:
        return None
    ordered, middle = sorted(values), len(values) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return round(value, 2)


# --- promotion ---------------------------------------------------------------------------------------------


async def _participant_employees(
    conn: asyncpg.Connection, schema: str, now: date, program: str | None, staff: Staff | None = None
) -> tuple[set[str], set[str]]:
    """(employees in the program's population, employees on any registration) by ``now``.

    All programs: anyone registered as a mentor or mentee. One program: the people in its relationships
    (mentor or mentee) or with a request in it; people registered but only in other programs are neither
    participants nor non-participants of that program. Kept with ``staff`` (read in the same snapshot): promotion,
    the priority groups and the demographic groups ask for the same (``bench/reads.py``: three reads of every
    registration per computed dashboard)."""
    key = ("participant_employees", now, program)
    return await _kept(staff, key, lambda: _employees_of(conn, schema, now, program))


async def _kept(staff: Staff | None, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
    """What ``compute()`` finds, kept with ``staff`` under ``key`` when there is one (``Staff.kept``)."""
    return await compute() if staff is None else await staff.kept(key, compute)


async def _employees_of(conn: asyncpg.Connection, schema: str, now: date, program: str | None) -> tuple[set, set]:
    registered = {
        r["employee_id"]: r["participant_id"]
        for r in await conn.fetch(
            f"SELECT employee_id, participant_id FROM {schema}.activity_roles"
            " WHERE employee_id IS NOT NULL AND registered_on <= $1",
            now,
        )
    }
    if program is None:
        return set(registered), set(registered)
    in_program = {
        r["person"]
        for r in await conn.fetch(
            f"""SELECT unnest(mentee_ids) AS person FROM {schema}.eval_relationships WHERE program_id = $1
                UNION SELECT a.mentor_id FROM {schema}.activity_relationships a
                  JOIN {schema}.eval_relationships e USING (relationship_id) WHERE e.program_id = $1
                UNION SELECT mentee_id FROM {schema}.eval_requests WHERE program_id = $1""",
            program,
        )
    }
    return {e for e, p in registered.items() if p in in_program}, set(registered)


def _promotion_group(counts: list[int], min_cell: int) -> dict:
    headcount = counts[HEADCOUNT]
    if cell(headcount, min_cell) is None:
        return {"headcount": None, "promoted": None, "promotion_rate": None}
    promoted = counts[PROMOTED]
    promoted_cell = share_cell(promoted, headcount, min_cell)
    return {
        "headcount": headcount,
        "promoted": promoted_cell,
        "promotion_rate": ratio(promoted, headcount) if promoted_cell is not None else None,
    }


async def promotion(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    min_cell: int,
    program: str | None = None,
    staff: Staff | None = None,
) -> dict:
    """Per hire-year cohort, participants vs non-participants: ``headcount`` (hired by "now"), ``promoted``
    (at least one job-level change effective between their first hire and "now"), ``promotion_rate``.
    Facts count by effective date (a late, back-dated promotion counts from its date; one dated after "now"
    does not yet); a rescinded fact counts for nothing. Filters as retention's (HR department at "now",
    ``start``/``end`` bound the hire date)."""
    participants, registered = await _participant_employees(conn, schema, now, program, staff)
    staff = staff if staff is not None else await read_staff(conn, schema)
    besides = frozenset(registered - participants)  # registered, but only in other programs: neither group
    return {
        "as_of": now.isoformat(),
        "cohort_by": "hire_year",
        "cohorts": [
            {
                "cohort": str(year),
                "participants": _promotion_group(inside, min_cell),
                "non_participants": _promotion_group(rest, min_cell),
            }
            for year, (inside, rest) in cohorts(staff, filters, now, participants, besides).items()
        ],
    }


# --- mentor responsiveness ---------------------------------------------------------------------------------


def _middle(values: str) -> str:
    """SQL: the middle one or two of the sorted ``values`` (float8) as an array (empty without any): ``median`` of
    them is ``median`` of every value, the same floats, without sending every value to Python."""
    ordered = f"(array_agg({values} ORDER BY {values}) FILTER (WHERE {values} IS NOT NULL))"
    n = f"count({values})"
    return f"coalesce({ordered}[({n} + 1) / 2 : ({n} + 2) / 2], '{{}}')"


async def _forwards(
    conn: asyncpg.Connection, schema: str, filters: PopulationFilters, now: date, program: str | None
) -> tuple[dict[str, dict], list[float]]:
    """Per mentor: requests forwarded to them by "now" and what became of each by "now", counted by Postgres
    (a Python row per forward grew with the history: ``bench/reads.py``), and the middle of the days to their
    answers; the middle of every answer's days (``median`` of a middle is the median of all).

    The days are worked out by Postgres as Python did (``timedelta.total_seconds() / 86400``: the exact seconds,
    rounded once to a float, divided by 86,400), so the medians are the same floats; Postgres sorts them and sends
    the middle ones only (every answer's days decoded and sorted in Python took 56-92 ms of CPU per unfiltered or
    period read, ``bench/reads.py --scale 1``). From the projector's row per forward (``projections/answer_days.py``:
    its answer and request's program kept with it; the days worked out here from its two times, so the row holds
    only facts), not the join of forwards, answers and requests at each
    read (``bench/reads.py --scale 1``, unfiltered: 200 -> 90 ms of Postgres CPU)."""
    args: list = [now]
    by_program = ""
    if program is not None:  # a request without its own row is the default program's
        args.append(program)
        by_program = "AND coalesce(f.program_id, 'default') = $2"
    where = population(_people(filters), "f.mentor_id", schema, args)
    answered_by = f"f.answered_at < {next_day('$1')}"
    rows = await conn.fetch(
        f"""WITH answered AS (
                SELECT f.mentor_id, CASE WHEN {answered_by} THEN f.outcome END AS outcome,
                       CASE WHEN {answered_by} AND f.outcome IN ('accepted', 'declined')
                            THEN extract(epoch FROM f.answered_at - f.forwarded_at)::float8 / 86400 END AS days
                FROM {schema}.answer_days f
                WHERE f.forwarded_at < {next_day("$1")} {by_program} AND {where})
            SELECT grouping(mentor_id) AS every, mentor_id, count(*) AS received,
                   count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
                   count(*) FILTER (WHERE outcome = 'declined') AS declined,
                   count(*) FILTER (WHERE outcome = 'expired') AS expired,
                   count(*) FILTER (WHERE outcome IS NULL) AS pending, {_middle("days")} AS middle
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


def _mentor_row(mentor_id: str, m: dict) -> dict:
    return {
        "mentor_id": mentor_id,
        **{k: m[k] for k in ("received", "accepted", "declined", "expired", "pending")},
        "median_days_to_answer": median(m["middle"]),
    }


async def mentor_responsiveness(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    program: str | None = None,
) -> list[dict]:
    """The director's per-mentor view (mentor ids, no suppression: never shown to analysts): requests
    received (forwarded to them), accepted, declined, expired (deadline missed), pending at "now", and the
    median days from forwarding to an answer (accepted or declined; an expiry is no answer)."""
    mentors, _ = await _forwards(conn, schema, filters, now, program)
    return [_mentor_row(k, v) for k, v in sorted(mentors.items())]


def _answer_band(days: float | None) -> str:
    if days is None:
        return "no_answer"
    if days <= 1:
        return "within_1_day"
    if days <= 3:
        return "1_to_3_days"
    return "3_to_7_days" if days <= 7 else "over_7_days"


def _answered_band(m: dict) -> str:
    answered = m["accepted"] + m["declined"]
    if answered == m["received"]:
        return "all"
    if answered == 0:
        return "none"
    return "half_or_more" if answered / m["received"] >= 0.5 else "under_half"


async def responsiveness(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    min_cell: int,
    program: str | None = None,
) -> dict:
    """For analysts: no per-mentor rows. Totals over mentors, the median days to answer over every answer,
    and mentors by their own median time to answer and by the share of their requests they answered (each
    band a group of mentors, withheld when small). Fewer than ``min_cell`` mentors withholds everything."""
    mentors, every = await _forwards(conn, schema, filters, now, program)
    if cell(len(mentors), min_cell) is None:
        return {"mentors": None, "suppressed": True}
    kinds = ("received", "accepted", "declined", "expired", "pending")
    totals = {k: sum(m[k] for m in mentors.values()) for k in kinds}
    by_time = [_answer_band(median(m["middle"])) for m in mentors.values()]
    by_share = [_answered_band(m) for m in mentors.values()]
    return {
        "mentors": len(mentors),
        "suppressed": False,
        **totals,
        "answer_rate": ratio(totals["accepted"] + totals["declined"], totals["received"]),
        "acceptance_rate": ratio(totals["accepted"], totals["received"]),
        "median_days_to_answer": median(every),
        "mentors_by_median_days_to_answer": {b: cell(by_time.count(b), min_cell) for b in ANSWER_BANDS},
        "mentors_by_share_answered": {b: cell(by_share.count(b), min_cell) for b in ANSWERED_BANDS},
    }


# --- fast starts or lagging --------------------------------------------------------------------------------


def _start_group(row: Mapping[str, Any], min_cell: int) -> dict:
    """One group's figures from its counts and medians (``_Starts.row``)."""
    count = row["relationships"]
    figures: dict = {"relationships": cell(count, min_cell)}
    for name in ("agreement", "first_meeting"):
        if figures["relationships"] is None or count == 0:
            figures[f"median_days_to_{name}"] = figures[f"{name}_within_{FAST_DAYS}_days_rate"] = None
            continue
        reached, decided = row[f"{name}_reached"], row[f"{name}_decided"]
        figures[f"median_days_to_{name}"] = (
            _median_of(row[f"{name}_median"], reached) if cell(reached, min_cell) is not None else None
        )
        figures[f"{name}_within_{FAST_DAYS}_days_rate"] = (
            ratio(row[f"{name}_fast"], decided) if cell(decided, min_cell) is not None else None
        )
    return figures


def _median_of(value: float | None, count: int) -> float | None:
    """Postgres' ``percentile_cont(0.5)`` as ``median`` gives it: the middle day of an odd count (an int), the
    mean of the two middle ones of an even count (a float), rounded to 2 decimals."""
    if value is None:
        return None
    return int(value) if count % 2 else round(value, 2)


def _percentile_cont(days: dict[int, int]) -> float | None:
    """``percentile_cont(0.5)`` of the days counted in ``days`` (day → how many), as Postgres works it out: the
    middle value, or the lower of the two middle ones plus half their difference (a float either way)."""
    count = sum(days.values())
    if not count:
        return None
    position = (count - 1) / 2
    low, high = math.floor(position), math.ceil(position)
    found: dict[int, float] = {}
    seen = 0
    for day in sorted(days):
        seen += days[day]
        for rank in (low, high):
            if rank < seen:
                found.setdefault(rank, float(day))
        if high in found:
            break
    return found[low] + (found[high] - found[low]) * (position - low)


_STARTS = ("agreement", "first_meeting")


@dataclass
class _Starts:
    """One group's relationships (``fast_starts``' rows): how many, and per milestone its days (day → how many
    relationships reached it in that many days by "now"), how many reached it within the fast days and how many
    are decided (reached it so, or their fast days have passed)."""

    relationships: int = 0
    days: dict[str, dict[int, int]] = field(default_factory=lambda: {name: {} for name in _STARTS})
    fast: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_STARTS, 0))
    decided: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_STARTS, 0))

    def row(self) -> dict:
        """The counts and medians as ``_start_group`` reads them."""
        row: dict = {"relationships": self.relationships}
        for name in _STARTS:
            row[f"{name}_reached"] = sum(self.days[name].values())
            row[f"{name}_median"] = _percentile_cont(self.days[name])
            row[f"{name}_fast"] = self.fast[name]
            row[f"{name}_decided"] = self.decided[name]
        return row


async def fast_starts(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    min_cell: int,
    program: str | None = None,
) -> dict:
    """Days from the match (``MatchApproved``; the start for a relationship without one) to the agreement
    signed and to the first meeting held: medians, and the share reached within 30 days among those whose
    30 days have passed (or that reached it already: the rest are lagging starts). By program and by cohort
    (the mentee's registration month), and overall. A group of fewer than ``min_cell`` relationships is
    withheld, and so is a median or rate over fewer.

    From the projector's row per relationship (``projections/fast_starts.py``: its program, its mentee's department
    and cohort, its match, start and milestone days), which Postgres counts per program, cohort, whether the 30 days
    have passed and the days to each milestone by "now"; the groups and their medians are added up here from those
    counts (a few hundred rows). The same figures as the join of the evaluation facts this replaced
    (``tests/analytics_oracle.py``), which took ~300 ms of Postgres CPU per read at ``bench/reads.py --scale 1``."""
    args: list = [now, program]
    clauses = ["started_on <= $1", "($2::text IS NULL OR program_id = $2)"]
    for column in ("department", "cohort"):
        if value := getattr(filters, column):
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")  # the mentee's now, as ``periods.population`` selects them
    rows = await conn.fetch(
        f"""WITH days AS (
                SELECT program_id AS program, coalesce(cohort, 'unknown') AS cohort,
                       matched_on + {FAST_DAYS} <= $1 AS passed,
                       CASE WHEN signed_on <= $1 THEN signed_on - matched_on END AS agreement,
                       CASE WHEN met_on <= $1 THEN met_on - matched_on END AS first_meeting
                FROM {schema}.fast_starts WHERE {" AND ".join(clauses)})
            SELECT grouping(agreement) = 0 AS of_agreement, program, cohort, passed,
                   coalesce(agreement, first_meeting) AS days, count(*) AS n
            FROM days GROUP BY GROUPING SETS ((program, cohort, passed, agreement),
                                              (program, cohort, passed, first_meeting))""",
        *args,
    )
    overall: _Starts = _Starts()
    programs: dict[str, _Starts] = defaultdict(_Starts)
    by_cohort: dict[str, _Starts] = defaultdict(_Starts)
    for row in rows:
        name, days, n = "agreement" if row["of_agreement"] else "first_meeting", row["days"], row["n"]
        fast = days is not None and days <= FAST_DAYS
        for group in (overall, programs[row["program"]], by_cohort[row["cohort"]]):
            if name == "agreement":  # each relationship is in one row of the agreement's and one of the meeting's
                group.relationships += n
            if days is not None:
                group.days[name][days] = group.days[name].get(days, 0) + n
            group.fast[name] += n if fast else 0
            group.decided[name] += n if fast or row["passed"] else 0
    return {
        "as_of": now.isoformat(),
        "fast_within_days": FAST_DAYS,
        "overall": _start_group(overall.row(), min_cell),
        "by_program": [{"program": p, **_start_group(programs[p].row(), min_cell)} for p in sorted(programs)],
        "by_cohort": [{"cohort": c, **_start_group(by_cohort[c].row(), min_cell)} for c in sorted(by_cohort)],
    }


# --- breakdowns by priority group --------------------------------------------------------------------------


async def _retained_participants(
    conn: asyncpg.Connection,
    schema: str,
    staff: Staff | None,
    now: date,
    employees: Iterable[str],
    participants: set[str],
) -> dict[str, bool]:
    """Of ``employees``, the ``participants`` hired and past their first anniversary by "now": employed on it or not
    (``staff`` as read for this snapshot, else read here)."""
    staff = staff if staff is not None else await read_staff(conn, schema)
    found: dict[str, bool] = {}
    for employee_id in employees:
        if employee_id in participants and (retained := staff.retained(employee_id, now)) is not None:
            found[employee_id] = retained
    return found


async def _mentees_requests(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    program: str | None,
    staff: Staff | None,
) -> list[asyncpg.Record]:
    """Per mentee with a request by "now" (ranked; in ``program`` when one is given): their priority group ("none"
    without one), requests and those matched by "now". The priority groups' breakdown sums them per group, the
    demographic groups take who was matched: kept with ``staff`` (read in the same snapshot), one scan of the
    requests for both (``bench/reads.py``: each scanned them, a tenth of a computed dashboard). The request's row of
    the evaluation facts is joined only for its program, when one is asked for (``_forwards`` too)."""

    async def scan() -> list[asyncpg.Record]:
        args: list = [now]
        join = by_program = ""
        if program is not None:  # the request's own program (a request without its row: the default one)
            args.append(program)
            join = f"LEFT JOIN {schema}.eval_requests e ON e.request_id = q.request_id"
            by_program = "AND coalesce(e.program_id, 'default') = $2"
        where = population(_people(filters), "q.mentee_id", schema, args)
        # counted per mentee first, then their group: a few rows per mentee fewer to look up (``bench/reads.py
        # --scale 1``, by program: 115,709 requests each looked up in eval_people, 270 → 140 ms of Postgres CPU)
        return await conn.fetch(
            f"""WITH mentees AS (
                    SELECT q.mentee_id, count(*) AS requests,
                           count(*) FILTER (WHERE q.matched_at < {next_day("$1")}) AS matched
                    FROM {schema}.requests q
                    {join}
                    WHERE q.ranked_at < {next_day("$1")} {by_program}
                      AND {where}
                    GROUP BY q.mentee_id)
                SELECT m.mentee_id, coalesce(g.priority_group, 'none') AS grp, m.requests, m.matched
                FROM mentees m LEFT JOIN {schema}.eval_people g ON g.participant_id = m.mentee_id""",
            *args,
        )

    return await _kept(staff, ("mentees_requests", _people(filters), now, program), scan)


class _Registered(NamedTuple):
    """The employees on a registration by "now" whom the person filters select (``_registered_employees``)."""

    groups: dict[str, str]
    """employee id → the priority group of the first of their registrations in the group's order ("none" last)"""
    participants: dict[str, str]
    """employee id → the first of their participant ids"""
    retained: dict[str, bool]
    """of them, the participants past their first anniversary: employed on it or not (``_retained_participants``)"""


async def _registered_employees(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    program: str | None,
    staff: Staff | None,
) -> _Registered:
    """What the priority groups' retention and the demographic groups' retention ask of the registered employees,
    read once for both and kept with ``staff`` (``bench/reads.py``: each read the registrations and worked out the
    standings of the same employees). The first registration in each order is Postgres' (``first_value``, ``min``:
    its collation), as each breakdown's ``DISTINCT ON`` took it."""

    async def read() -> _Registered:
        args: list = [now]
        where = population(_people(filters), "a.participant_id", schema, args)
        rows = await conn.fetch(
            f"""SELECT DISTINCT ON (a.employee_id) a.employee_id,
                       first_value(coalesce(g.priority_group, 'none'))
                         OVER (PARTITION BY a.employee_id ORDER BY g.priority_group NULLS LAST) AS grp,
                       min(a.participant_id) OVER (PARTITION BY a.employee_id) AS participant_id
                FROM {schema}.activity_roles a LEFT JOIN {schema}.eval_people g ON g.participant_id = a.participant_id
                WHERE a.employee_id IS NOT NULL AND a.registered_on <= $1 AND {where}
                ORDER BY a.employee_id""",
            *args,
        )
        groups = {r["employee_id"]: r["grp"] for r in rows}
        participants, _ = await _participant_employees(conn, schema, now, program, staff)
        retained = await _retained_participants(conn, schema, staff, now, groups, participants)
        return _Registered(groups, {r["employee_id"]: r["participant_id"] for r in rows}, retained)

    return await _kept(staff, ("registered_employees", _people(filters), now, program), read)


async def by_priority_group(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    min_cell: int,
    program: str | None = None,
    staff: Staff | None = None,
) -> list[dict]:
    """Per priority group (a participant's, set at registration; "none" without one): requests and the match
    rate of the mentees' requests, and the 12-month retention of participants who are HR workers (hired,
    and employed on their first anniversary, among those whose anniversary has passed)."""
    groups: dict[str, dict] = defaultdict(lambda: {"requests": 0, "matched": 0, "eligible": 0, "retained": 0})
    for r in await _mentees_requests(conn, schema, filters, now, program, staff):
        groups[r["grp"]]["requests"] += r["requests"]
        groups[r["grp"]]["matched"] += r["matched"]
    people = await _registered_employees(conn, schema, filters, now, program, staff)
    for employee_id, kept in people.retained.items():
        group = groups[people.groups[employee_id]]
        group["eligible"] += 1
        group["retained"] += kept
    rows = []
    for name, g in sorted(groups.items()):
        matched = _part(g["matched"], g["requests"], min_cell)
        retained = _part(g["retained"], g["eligible"], min_cell)
        rows.append(
            {
                "priority_group": name,
                "requests": cell(g["requests"], min_cell),
                "matched": matched,
                "match_rate": ratio(g["matched"], g["requests"]) if matched is not None else None,
                "eligible_12m": cell(g["eligible"], min_cell),
                "retained_12m": retained,
                "retention_rate_12m": ratio(g["retained"], g["eligible"]) if retained is not None else None,
            }
        )
    return rows


def _part(part: int, whole: int, min_cell: int) -> int | None:
    """``part`` of ``whole``: withheld when the whole, the part or the rest is small."""
    return share_cell(part, whole, min_cell) if cell(whole, min_cell) is not None else None


# --- breakdowns by consented demographics ------------------------------------------------------------------

DIMENSIONS = ("gender", "race_ethnicity", "first_generation")
NOT_ASKED = "not computed here: the dashboard asks profiles for it (Reads, through a DemographicsSource)"


class DemographicsUnavailable(Exception):
    """Profiles could not answer (down, refused, timed out): the block says so, the rest of the figures stand."""


class DemographicsSource(Protocol):
    """Profiles' aggregate (``POST /aggregates/demographics``): per category of ``dimension``, the consented
    people of each group, small cells withheld by profiles (``None``). Raises ``DemographicsUnavailable``."""

    async def demographics(self, dimension: str, groups: dict[str, list[str]], min_cell: int) -> dict: ...


async def demographic_groups(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    program: str | None = None,
    staff: Staff | None = None,
) -> dict[str, dict[str, list[str]]]:
    """The people behind the priority-group breakdown, as participant ids (analytics never holds anyone's
    demographics; profiles counts them): ``match``: mentees with a request by "now" (as ``by_priority_group``
    counts requests), ``matched`` if one of them was matched by "now", else ``not_matched``; ``retention_12m``:
    participants who are HR workers and whose first anniversary has passed, ``retained`` (employed on it) or
    ``left``. Each person is in one group of each breakdown."""
    matched = {
        r["mentee_id"]: r["matched"] > 0 for r in await _mentees_requests(conn, schema, filters, now, program, staff)
    }
    people = await _registered_employees(conn, schema, filters, now, program, staff)
    retained = {people.participants[employee_id]: kept for employee_id, kept in people.retained.items()}
    return {
        "match": {
            "matched": sorted(p for p, m in matched.items() if m),
            "not_matched": sorted(p for p, m in matched.items() if not m),
        },
        "retention_12m": {
            "retained": sorted(p for p, r in retained.items() if r),
            "left": sorted(p for p, r in retained.items() if not r),
        },
    }


OUTCOMES = {  # a breakdown → (its people, the outcome counted, the other group, the rate): the JSON's names
    "match": ("mentees", "matched", "not_matched", "match_rate"),
    "retention_12m": ("eligible_12m", "retained_12m", "left", "retention_rate_12m"),
}


def _outcome_row(breakdown: str, row: dict) -> dict:
    """One category's row as profiles counted it: the rate is withheld with either of its counts."""
    people, outcome, other, rate = OUTCOMES[breakdown]
    counted = row["counts"][outcome.removesuffix("_12m")]
    known = counted is not None and row["counts"][other] is not None
    return {
        "category": row["category"],
        people: row["people"],
        outcome: counted,
        rate: ratio(counted, row["people"]) if known else None,
    }


async def by_demographics(
    source: DemographicsSource | None, groups: dict[str, dict[str, list[str]]], min_cell: int
) -> dict:
    """Match rate and 12-month retention per category of each consented dimension (gender, race or ethnicity,
    first generation), as profiles counts them from the groups (``demographic_groups``): profiles withholds
    small cells, pools small categories into ``other`` and puts those who gave no answer with consent under
    ``not_given``; a rate is withheld with its counts. ``reported: false`` with the reason when profiles is not
    configured or does not answer: the rest of the dashboard answers all the same."""
    if source is None:
        return {"reported": False, "reason": "profiles' address is not configured (MENTORSHIP_ANALYTICS_PROFILES_URL)"}
    dimensions: dict[str, dict] = {}
    shown = min_cell
    try:
        for dimension in DIMENSIONS:
            figures: dict[str, list[dict]] = {}
            for name in OUTCOMES:
                if not any(groups[name].values()):
                    figures[name] = []
                    continue
                answer = await source.demographics(dimension, groups[name], min_cell)
                shown = max(shown, answer["min_cell"])
                figures[name] = [_outcome_row(name, row) for row in answer["categories"]]
            dimensions[dimension] = figures
    except DemographicsUnavailable as exc:
        return {"reported": False, "reason": f"profiles did not answer: {exc}"}
    return {"reported": True, "min_cell": shown, "dimensions": dimensions}


async def evaluation_figures(
    conn: asyncpg.Connection,
    schema: str,
    filters: PopulationFilters,
    now: date,
    min_cell: int,
    program: str | None = None,
    staff: Staff | None = None,
) -> dict:
    """Every evaluation figure for the dashboard (analysts and directors alike: nothing per mentor). ``staff``:
    the workers already read in this snapshot (``retention.Staff``: read once, not by each figure)."""
    staff = staff if staff is not None else await read_staff(conn, schema)
    return {
        "units": UNITS,
        "program": program,
        "promotion": await promotion(conn, schema, filters, now, min_cell, program, staff),
        "responsiveness": await responsiveness(conn, schema, filters, now, min_cell, program),
        "fast_starts": await fast_starts(conn, schema, filters, now, min_cell, program),
        "by_priority_group": await by_priority_group(conn, schema, filters, now, min_cell, program, staff),
        "by_demographics": {"reported": False, "reason": NOT_ASKED},
    }
