"""Use cases (HR's events): follow each employee's supervisor and the attributes programs' eligibility reads
(job function, department, location, ...), the latest effective record winning."""

from __future__ import annotations

from services.matching.application.deps import Deps
from shared.envelope import Envelope
from shared.events.hr import WorkerHired, WorkerTransferred, WorkerUpdated
from shared.ports import Conn


async def worker_record(deps: Deps, conn: Conn, event: WorkerHired | WorkerUpdated, envelope: Envelope) -> None:
    await deps.lines.record(
        conn, event.employee_id, event.worker.supervisor_id, event.effective_date, event.recorded_at
    )
    w = event.worker
    attributes = {
        "job_function": w.job_function,
        "department": w.department_name,
        "department_id": w.department_id,
        "location": w.location,
        "country": w.country,
        "remote": str(w.remote).lower(),
        "employment_status": w.employment_status,
        "title": w.title,
    }
    await deps.enrolments.record_hr(conn, event.employee_id, attributes, event.effective_date, event.recorded_at)


async def worker_transferred(deps: Deps, conn: Conn, event: WorkerTransferred, envelope: Envelope) -> None:
    moved = {"department": event.new_department_name, "department_id": event.new_department_id}
    if event.new_location is not None:
        moved["location"] = event.new_location
    await deps.enrolments.record_hr(conn, event.employee_id, moved, event.effective_date, event.recorded_at)
    if event.new_supervisor_id is None:
        return  # a transfer that names no new supervisor keeps the current one
    await deps.lines.record(conn, event.employee_id, event.new_supervisor_id, event.effective_date, event.recorded_at)
