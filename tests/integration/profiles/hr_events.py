"""Builders of HR facts as the HR system would put them on ``hr.events``."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from shared.envelope import Envelope
from shared.events import Event
from shared.events.hr import Worker, WorkerHired, WorkerUpdated

RECORDED = datetime(2025, 1, 1, tzinfo=UTC)


def worker(employee_id: str = "E100", **overrides) -> Worker:
    fields = dict(
        employee_id=employee_id,
        legal_name="Grace Hopper",
        preferred_name="Grace",
        work_email=f"{employee_id.lower()}@example.edu",
        title="Professor",
        job_function="faculty",
        department_id="D1",
        department_name="Computer Science",
        location="Main campus",
        country="US",
        original_hire_date=date(2024, 1, 1),
        last_hire_date=date(2024, 1, 1),
    )
    return Worker(**{**fields, **overrides})


def hired(employee_id: str = "E100", effective: date = date(2024, 1, 1), **overrides) -> WorkerHired:
    return WorkerHired(
        employee_id=employee_id, effective_date=effective, recorded_at=RECORDED, worker=worker(employee_id, **overrides)
    )


def updated(employee_id: str = "E100", effective: date = date(2024, 6, 1), **overrides) -> WorkerUpdated:
    return WorkerUpdated(
        employee_id=employee_id,
        effective_date=effective,
        recorded_at=RECORDED,
        worker=worker(employee_id, **overrides),
        changed_fields=sorted(overrides) or ["title"],
    )


def fact(cls: type[Event], employee_id: str = "E100", effective: date = date(2024, 6, 1), **fields) -> Event:
    return cls(employee_id=employee_id, effective_date=effective, recorded_at=RECORDED, **fields)


def envelope(event: Event, subject: str | None = None) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/hr/workday",
        type=event.type_name(),
        time=RECORDED,
        subject=subject or event.employee_id,
        correlationid=uuid.uuid4(),
        sequence=1,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
    )
