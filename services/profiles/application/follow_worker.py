"""Use case: bring a participant in line with their worker as HR sees them on a date.

The worker is re-derived from every standing HR fact (see ``domain.worker``)
and compared with the view last applied: the HR fields that changed become a
``ProfileUpdated`` (source ``hr_feed``), a changed employment status becomes
``ParticipantDeactivated`` / ``ParticipantReactivated``.  HR changes only what
HR changed, so a participant's own edit of, say, their location stands until
HR changes the location again.

The first time a worker's full record is effective, the worker becomes a
participant: the one already linked to the employee id (a registration that
named it), else the one with the worker's email, else a new participant whose
id is the employee id.  On linking, HR fills only the fields the person left
empty.  A new participant holds a person record only; being a mentor or a
mentee still takes a registration.

Runs inside the caller's transaction (the inbox's, a timer's, an import row's or a SCIM write's).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import JsonValue

from services.profiles.application.commands import FollowWorker
from services.profiles.application.ports import Ports
from services.profiles.domain.participant import Participant
from services.profiles.domain.worker import ImpossibleHrFact, WorkerView, derive, effective_from
from shared.events import Event
from shared.ports import Conn


@dataclass(frozen=True)
class Followed:
    """The worker view applied to the participant before and after; ``linked``: a participant existed before."""

    linked: bool
    before: WorkerView | None
    after: WorkerView | None


async def handle(ports: Ports, conn: Conn, cmd: FollowWorker) -> Followed:
    participant_id, applied = await ports.hr.lock_worker(conn, cmd.employee_id)
    followed = Followed(participant_id is not None, applied, applied)
    view = derive(await ports.hr.standing_facts(conn, cmd.employee_id), cmd.as_of)
    if view is None or view == applied:
        return followed
    if participant_id is None:
        participant_id, applied = await _link(ports, conn, view), None
    participant = await ports.participants.load(conn, participant_id)
    events = decide(participant, applied, view)
    await ports.participants.commit(
        conn, participant, events, correlation_id=cmd.correlation_id, causation_id=cmd.causation_id
    )
    await ports.hr.save_worker(conn, cmd.employee_id, participant_id, view)
    return Followed(followed.linked, applied, view)


def decide(participant: Participant, applied: WorkerView | None, view: WorkerView) -> list[Event]:
    """What following the worker from ``applied`` (None: just linked) to ``view`` makes the participant do."""
    events = participant.edit(_hr_changes(applied, view, participant), source="hr_feed")
    if applied is None or applied.status != view.status:
        events += participant.follow_employment(view.status, effective_from(applied, view))
    return events


def _hr_changes(applied: WorkerView | None, view: WorkerView, participant: Participant) -> dict[str, JsonValue]:
    """On linking, HR fills the gaps in the person's record; afterwards it changes what HR changed."""
    if applied is None:
        return {
            path: value for path, value in view.participant_fields().items() if participant.fields.get(path) is None
        }
    before = applied.participant_fields()
    return {path: value for path, value in view.participant_fields().items() if before[path] != value}


async def _link(ports: Ports, conn: Conn, view: WorkerView) -> str:
    """The participant a worker becomes: by employee id, else by email, else a new one named by the employee id."""
    by_employee = await ports.people.owner_of_employee(conn, view.employee_id)
    if by_employee is not None:
        return by_employee
    by_email = await ports.people.owner_of_email(conn, view.email)
    if by_email is not None:
        employee_id = await ports.people.employee_of(conn, by_email)
        if employee_id not in (None, view.employee_id):
            raise ImpossibleHrFact(f"work email {view.email} belongs to employee {employee_id}")
        return by_email
    employee_id = await ports.people.employee_of(conn, view.employee_id)
    if employee_id not in (None, view.employee_id):
        raise ImpossibleHrFact(f"participant {view.employee_id} is employee {employee_id}")
    return view.employee_id
