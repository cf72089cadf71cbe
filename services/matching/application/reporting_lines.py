"""Follows HR's reporting line (``hr.events``): each employee's supervisor, latest effective record wins."""

from __future__ import annotations

import asyncpg

from shared.envelope import Envelope
from shared.events import Event
from shared.events.hr import WorkerHired, WorkerTransferred, WorkerUpdated
from shared.inbox import Handler


async def on_worker_record(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, WorkerHired | WorkerUpdated)
    await _record(conn, event.employee_id, event.worker.supervisor_id, event)


async def on_worker_transferred(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, WorkerTransferred)
    if event.new_supervisor_id is None:
        return  # a transfer that names no new supervisor keeps the current one
    await _record(conn, event.employee_id, event.new_supervisor_id, event)


async def _record(conn: asyncpg.Connection, employee_id: str, supervisor_id: str | None, event) -> None:
    """An older fact arriving late (by effective date, then recording time) does not undo a newer one."""
    await conn.execute(
        """INSERT INTO hr_supervisors (employee_id, supervisor_id, effective_date, recorded_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (employee_id) DO UPDATE SET supervisor_id = EXCLUDED.supervisor_id,
               effective_date = EXCLUDED.effective_date, recorded_at = EXCLUDED.recorded_at
           WHERE (hr_supervisors.effective_date, hr_supervisors.recorded_at)
                 <= (EXCLUDED.effective_date, EXCLUDED.recorded_at)""",
        employee_id,
        supervisor_id,
        event.effective_date,
        event.recorded_at,
    )


HR_HANDLERS: dict[str, Handler] = {
    WorkerHired.type_name(): on_worker_record,
    WorkerUpdated.type_name(): on_worker_record,
    WorkerTransferred.type_name(): on_worker_transferred,
}
