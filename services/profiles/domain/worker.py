"""A worker as HR sees them, derived from every HR fact about them.  No I/O.

HR facts can arrive late, twice, out of order, forward-dated or be rescinded
later.  Instead of applying each fact to the participant as it arrives, the
worker is *derived*: the facts that are not rescinded and already effective
(``effective_date`` on or before today) are folded in the order
``(effective_date, recorded_at, arrival)``.  The order of arrival therefore
does not matter, and a rescission or a forward-dated fact reaching its date
is just another derivation.  Partial facts (transfer, promotion, leave,
return, termination) that precede the worker's first full record (hire or
update) in that order have nothing to apply to and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time

from pydantic import JsonValue

from services.profiles.domain.participant import EmploymentStatus
from shared.events import Event
from shared.events.hr import (
    HrEventRescinded,
    Worker,
    WorkerHired,
    WorkerOnLeave,
    WorkerPromoted,
    WorkerReturned,
    WorkerTerminated,
    WorkerTransferred,
    WorkerUpdated,
)

HR_FACTS = (
    WorkerHired,
    WorkerUpdated,
    WorkerTransferred,
    WorkerPromoted,
    WorkerOnLeave,
    WorkerReturned,
    WorkerTerminated,
)
HR_FACT_TYPES = frozenset(cls.__name__ for cls in HR_FACTS)
HR_TIMER = "hr-effective"
"""The kind of the durable timer that re-derives a worker when a forward-dated fact takes effect."""


class ImpossibleHrFact(ValueError):
    """An HR fact that can never make sense, whatever else arrives."""


@dataclass(frozen=True)
class HrFact:
    event_id: str
    event: Event
    arrival: int

    @property
    def order(self) -> tuple[date, datetime, int]:
        return (self.event.effective_date, self.event.recorded_at, self.arrival)


@dataclass(frozen=True)
class WorkerView:
    """The part of the HR record that the participant follows."""

    employee_id: str
    name: str
    email: str
    job_function: str | None
    department: str | None
    location: str | None
    status: EmploymentStatus
    status_since: date

    def participant_fields(self) -> dict[str, JsonValue]:
        return {
            "employee_id": self.employee_id,
            "name": self.name,
            "email": self.email,
            "profile.job_function": self.job_function,
            "profile.department": self.department,
            "profile.location": self.location,
        }

    def to_json(self) -> dict[str, JsonValue]:
        return {**self.__dict__, "status_since": self.status_since.isoformat()}  # every field is a scalar

    @classmethod
    def from_json(cls, data: dict) -> WorkerView:
        return cls(**{**data, "status_since": date.fromisoformat(data["status_since"])})


def check_fact(event: Event, subject: str) -> None:
    """Rules one fact must keep on its own; a breach goes to the dead-letter topic."""
    if event.employee_id != subject:
        raise ImpossibleHrFact(f"subject {subject!r} names another employee than {event.employee_id!r}")
    if isinstance(event, WorkerHired) and event.worker.employment_status == "terminated":
        raise ImpossibleHrFact("a hire cannot record a terminated worker")
    if (
        isinstance(event, WorkerOnLeave)
        and event.expected_return_date is not None
        and event.expected_return_date < event.effective_date
    ):
        raise ImpossibleHrFact("expected_return_date precedes the start of the leave")
    if isinstance(event, HrEventRescinded) and event.rescinded_type not in HR_FACT_TYPES:
        raise ImpossibleHrFact(f"cannot rescind a {event.rescinded_type}")


def check_rescission(rescission: HrEventRescinded, fact_employee_id: str, fact_type: str) -> None:
    if fact_employee_id != rescission.employee_id:
        raise ImpossibleHrFact(
            f"event {rescission.rescinded_event_id} belongs to employee {fact_employee_id},"
            f" not {rescission.employee_id}"
        )
    if fact_type != rescission.rescinded_type:
        raise ImpossibleHrFact(
            f"event {rescission.rescinded_event_id} is a {fact_type}, not a {rescission.rescinded_type}"
        )


def check_rescission_arrived_first(event: Event, event_id: str, employee_id: str, rescinded_type: str) -> None:
    """A fact whose rescission came first must be the fact the rescission named."""
    if employee_id != event.employee_id or rescinded_type != event.type_name():
        raise ImpossibleHrFact(
            f"event {event_id} was rescinded as a {rescinded_type} of employee {employee_id},"
            f" but is a {event.type_name()} of employee {event.employee_id}"
        )


def effective_date_timer(employee_id: str, due_on: date) -> tuple[str, datetime]:
    """The key and due time of the timer that applies a forward-dated fact (one per worker and date)."""
    return f"{HR_TIMER}:{employee_id}:{due_on.isoformat()}", datetime.combine(due_on, time.min, tzinfo=UTC)


def derive(facts: Iterable[HrFact], today: date) -> WorkerView | None:
    """The worker as of ``today``; None while no full record is effective (a pending worker)."""
    view: WorkerView | None = None
    for fact in sorted(facts, key=lambda f: f.order):
        if fact.event.effective_date > today:
            break
        view = _step(view, fact.event)
    return view


def effective_from(old: WorkerView | None, new: WorkerView) -> date:
    """When a status change takes effect; undoing a state (a rescission) dates from when that state began."""
    if old is None or new.status_since >= old.status_since:
        return new.status_since
    return old.status_since


def _step(view: WorkerView | None, event: Event) -> WorkerView | None:
    if isinstance(event, (WorkerHired, WorkerUpdated)):
        return _from_record(view, event.worker, event.effective_date)
    if view is None:
        return None
    if isinstance(event, WorkerTransferred):
        location = event.new_location if event.new_location is not None else view.location
        return replace(view, department=event.new_department_name, location=location)
    if isinstance(event, WorkerPromoted):
        return replace(view, job_function=event.new_job_function or view.job_function)
    if isinstance(event, WorkerOnLeave) and view.status == "active":
        return _status(view, "leave", event.effective_date)
    if isinstance(event, WorkerReturned) and view.status == "leave":
        return _status(view, "active", event.effective_date)
    if isinstance(event, WorkerTerminated):
        return _status(view, "terminated", event.effective_date)
    return view


def _from_record(view: WorkerView | None, worker: Worker, effective: date) -> WorkerView:
    status_since = view.status_since if view is not None and view.status == worker.employment_status else effective
    return WorkerView(
        employee_id=worker.employee_id,
        name=worker.preferred_name or worker.legal_name,
        email=worker.work_email,
        job_function=worker.job_function,
        department=worker.department_name,
        location=worker.location,
        status=worker.employment_status,
        status_since=status_since,
    )


def _status(view: WorkerView, status: EmploymentStatus, since: date) -> WorkerView:
    return view if view.status == status else replace(view, status=status, status_since=since)
