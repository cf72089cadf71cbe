"""Use cases (HR's events): follow each employee's supervisor, the latest effective record winning."""

from __future__ import annotations

from services.matching.application.deps import Deps
from shared.envelope import Envelope
from shared.events.hr import WorkerHired, WorkerTransferred, WorkerUpdated
from shared.ports import Conn


async def worker_record(deps: Deps, conn: Conn, event: WorkerHired | WorkerUpdated, envelope: Envelope) -> None:
    await deps.lines.record(
        conn, event.employee_id, event.worker.supervisor_id, event.effective_date, event.recorded_at
    )


async def worker_transferred(deps: Deps, conn: Conn, event: WorkerTransferred, envelope: Envelope) -> None:
    if event.new_supervisor_id is None:
        return  # a transfer that names no new supervisor keeps the current one
    await deps.lines.record(conn, event.employee_id, event.new_supervisor_id, event.effective_date, event.recorded_at)
