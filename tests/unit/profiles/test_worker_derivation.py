"""Deriving the worker from HR facts: arrival order, effective dates, pending records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.profiles.domain.worker import HrFact, ImpossibleHrFact, check_fact, derive, effective_from
from shared.events.hr import (
    HrEventRescinded,
    Worker,
    WorkerHired,
    WorkerOnLeave,
    WorkerReturned,
    WorkerTerminated,
    WorkerTransferred,
)

pytestmark = pytest.mark.unit

AT = datetime(2025, 1, 1, tzinfo=UTC)
TODAY = date(2025, 3, 1)


def hire(on: date = date(2024, 1, 1)) -> WorkerHired:
    worker = Worker(
        employee_id="E1",
        legal_name="G H",
        work_email="g@example.edu",
        title="t",
        job_function="faculty",
        department_id="D1",
        department_name="CS",
        country="US",
        original_hire_date=on,
        last_hire_date=on,
    )
    return WorkerHired(employee_id="E1", effective_date=on, recorded_at=AT, worker=worker)


def transfer(on: date, department: str) -> WorkerTransferred:
    return WorkerTransferred(
        employee_id="E1",
        effective_date=on,
        recorded_at=AT,
        old_department_id="D1",
        new_department_id="D2",
        new_department_name=department,
    )


def facts(*events) -> list[HrFact]:
    return [HrFact(str(i), event, i) for i, event in enumerate(events)]


def test_partial_facts_before_any_record_leave_the_worker_pending() -> None:
    assert derive(facts(transfer(date(2024, 2, 1), "Maths")), TODAY) is None
    view = derive(facts(transfer(date(2024, 2, 1), "Maths"), hire()), TODAY)
    assert view.department == "Maths" and view.name == "G H"


def test_facts_not_yet_effective_are_left_out() -> None:
    leave = WorkerOnLeave(
        employee_id="E1", effective_date=TODAY + timedelta(days=1), recorded_at=AT, leave_type="sabbatical"
    )
    assert derive(facts(hire(), leave), TODAY).status == "active"
    assert derive(facts(hire(), leave), TODAY + timedelta(days=1)).status == "leave"


def test_same_day_facts_follow_recorded_at() -> None:
    first = transfer(date(2024, 5, 1), "Physics")
    later = transfer(date(2024, 5, 1), "Chemistry").model_copy(update={"recorded_at": AT + timedelta(hours=1)})
    assert derive(facts(later, hire(), first), TODAY).department == "Chemistry"


def test_a_return_without_a_leave_changes_nothing() -> None:
    back = WorkerReturned(employee_id="E1", effective_date=date(2024, 2, 1), recorded_at=AT)
    assert derive(facts(hire(), back), TODAY) == derive(facts(hire()), TODAY)


def test_an_undone_state_dates_from_when_it_began() -> None:
    terminated = WorkerTerminated(
        employee_id="E1", effective_date=date(2025, 2, 1), recorded_at=AT, termination_type="voluntary"
    )
    before = derive(facts(hire(), terminated), TODAY)
    after = derive(facts(hire()), TODAY)
    assert effective_from(before, after) == date(2025, 2, 1)


def test_impossible_facts_are_named() -> None:
    with pytest.raises(ImpossibleHrFact, match="another employee"):
        check_fact(hire(), "E2")
    with pytest.raises(ImpossibleHrFact, match="cannot rescind"):
        check_fact(
            HrEventRescinded(
                employee_id="E1",
                effective_date=TODAY,
                recorded_at=AT,
                rescinded_event_id="x",
                rescinded_type="MentorRegistered",
            ),
            "E1",
        )


dated = st.dates(min_value=date(2024, 1, 2), max_value=date(2025, 6, 1))
status_fact = st.one_of(
    dated.map(lambda d: WorkerOnLeave(employee_id="E1", effective_date=d, recorded_at=AT, leave_type="other")),
    dated.map(lambda d: WorkerReturned(employee_id="E1", effective_date=d, recorded_at=AT)),
    dated.map(lambda d: WorkerTerminated(employee_id="E1", effective_date=d, recorded_at=AT, termination_type="other")),
    st.tuples(dated, st.sampled_from(["A", "B", "C"])).map(lambda t: transfer(*t)),
)


@given(st.lists(status_fact, max_size=8), st.randoms(use_true_random=False), dated)
def test_the_order_facts_arrive_in_does_not_matter(events, random, today) -> None:
    arrived = facts(hire(), *events)
    shuffled = [HrFact(f.event_id, f.event, i) for i, f in enumerate(random.sample(arrived, len(arrived)))]
    # Ties on (effective_date, recorded_at) fall back to arrival; keep the original arrival for them.
    original = {f.event_id: f.arrival for f in arrived}
    reordered = [HrFact(f.event_id, f.event, original[f.event_id]) for f in shuffled]
    assert derive(reordered, today) == derive(arrived, today)
