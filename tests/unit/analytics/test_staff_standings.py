"""The standings and tallies ``retention.Staff`` keeps per "now" equal the straightforward computation: each
worker's facts worked out at "now" (``standing``) and grouped worker by worker, over random staff and filters."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.querying.dashboard import Filters
from services.analytics.querying.retention import Staff, Worker, cohorts, standing, tally

DAY0 = date(2020, 1, 1)
DEPARTMENTS = ("Surgery", "Nursing", None)
days = st.integers(0, 6 * 365).map(lambda n: DAY0 + timedelta(days=n))
workers = st.builds(
    Worker,
    hires=st.lists(days, max_size=3),
    terminations=st.lists(days, max_size=2),
    departments=st.lists(st.tuples(days, st.sampled_from(DEPARTMENTS[:2])), max_size=3),
)
staffs = st.dictionaries(st.sampled_from([f"E{n}" for n in range(30)]), workers, max_size=30)
promotions = st.dictionaries(st.sampled_from([f"E{n}" for n in range(30)]), st.lists(days, max_size=2), max_size=10)
filters = st.builds(
    Filters,
    department=st.sampled_from(DEPARTMENTS),
    start=st.one_of(st.none(), days),
    end=st.one_of(st.none(), days),
)
employees = st.frozensets(st.sampled_from([f"E{n}" for n in range(35)]))


def _scanned(found, promoted, filters, now, among, besides):
    """Worker by worker, as retention and promotion grouped them before ``Staff``."""
    groups = defaultdict(lambda: ([], []))
    for employee_id, worker in found.items():
        if not worker.hires:
            continue
        hired = min(worker.hires)
        if hired > now or (filters.start and hired < filters.start) or (filters.end and hired > filters.end):
            continue
        if filters.department and worker.department_on(now) != filters.department:
            continue
        s = standing(worker, now, promoted.get(employee_id, ()))
        if employee_id in among:
            groups[hired.year][0].append(s)
        elif employee_id not in besides:
            groups[hired.year][1].append(s)
    return {year: (tally(inside), tally(rest)) for year, (inside, rest) in sorted(groups.items())}


@settings(max_examples=300, deadline=None)
@given(
    found=staffs,
    promoted=promotions,
    filters=filters,
    nows=st.lists(days, min_size=1, max_size=5),
    among=employees,
    besides=employees,
)
def test_standings_and_tallies_equal_a_scan_of_every_worker(found, promoted, filters, nows, among, besides) -> None:
    staff = Staff(found, promoted)
    besides = besides - among
    for now in [*nows, nows[0]]:  # a "now" asked again is served from what was kept
        assert staff.at(now) == {
            e: standing(w, now, promoted.get(e, ())) for e, w in found.items() if w.hires and min(w.hires) <= now
        }
        assert cohorts(staff, filters, now, set(among), besides) == _scanned(
            found, promoted, filters, now, among, besides
        )
        for e, w in found.items():  # retained on the first anniversary: of those whose anniversary has passed
            s = standing(w, now, promoted.get(e, ())) if w.hires and min(w.hires) <= now else None
            assert staff.retained(e, now) == (s.retained if s is not None and s.eligible else None)
