"""HR facts by effective date, prepared without I/O."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.analytics.projecting.projections import workforce
from shared.events.hr import HrEventRescinded, WorkerTerminated, WorkerTransferred, WorkerUpdated
from tests.unit.analytics.events import T0, hired, record, worker

pytestmark = pytest.mark.unit


def test_a_hire_gives_its_hire_dates_and_department() -> None:
    rehire = hired("E1", date(2024, 9, 1), last_hire_date=date(2024, 9, 1))
    event = record(
        rehire.model_copy(update={"worker": worker("E1", date(2019, 1, 7), last_hire_date=date(2024, 9, 1))})
    )
    assert workforce.prepare([event]).facts == [
        (event.id, "hire", "E1", date(2019, 1, 7), None),
        (event.id, "hire", "E1", date(2024, 9, 1), None),
        (event.id, "department", "E1", date(2024, 9, 1), "Medicine"),
    ]


def test_a_record_update_knows_hires_and_a_termination_but_is_not_a_hire_itself() -> None:
    record_of = worker("E2", date(2020, 3, 2), employment_status="terminated", termination_date=date(2025, 6, 30))
    update = WorkerUpdated(
        employee_id="E2", effective_date=date(2025, 7, 1), recorded_at=T0, worker=record_of, changed_fields=["status"]
    )
    event = record(update)
    assert workforce.prepare([event]).facts == [
        (event.id, "hire", "E2", date(2020, 3, 2), None),
        (event.id, "department", "E2", date(2025, 7, 1), "Medicine"),
        (event.id, "termination", "E2", date(2025, 6, 30), None),
    ]


def test_transfers_terminations_and_rescissions() -> None:
    moved = record(
        WorkerTransferred(
            employee_id="E1",
            effective_date=date(2025, 1, 1),
            recorded_at=T0,
            old_department_id="MED",
            new_department_id="SUR",
            new_department_name="Surgery",
        )
    )
    left = record(
        WorkerTerminated(employee_id="E1", effective_date=date(2025, 5, 31), recorded_at=T0, termination_type="other")
    )
    rescinded = uuid.uuid4()
    undo = record(
        HrEventRescinded(
            employee_id="E1",
            effective_date=date(2025, 6, 1),
            recorded_at=T0,
            rescinded_event_id=str(rescinded).upper(),
            rescinded_type="WorkerTerminated",
        )
    )
    prepared = workforce.prepare([moved, left, undo])
    assert prepared.facts == [
        (moved.id, "department", "E1", date(2025, 1, 1), "Surgery"),
        (left.id, "termination", "E1", date(2025, 5, 31), None),
    ]
    assert prepared.rescinded == [str(rescinded)]  # canonical text form, as the facts' ids are compared


def test_a_record_missing_a_field_adds_no_fact_at_all() -> None:
    data = hired("E3", date(2021, 1, 4)).model_dump(mode="json")
    del data["worker"]["last_hire_date"]
    assert workforce.prepare([record(type_name="WorkerHired", data=data, source="/services/hr")]).facts == []
