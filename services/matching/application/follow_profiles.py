"""Use cases (profiles' events): keep matching's copies of mentors and mentees in step.

A departure (deactivation or erasure) takes the participant out of the directory, withdraws their own
requests and passes on the requests waiting for them as a mentor; an erasure also scrubs the names and
request texts matching copied.  Each runs in the consumer's transaction (``conn``).
"""

from __future__ import annotations

from services.matching.application.deps import Deps
from services.matching.application.eligibility import eligibility
from services.matching.application.program import program_of
from services.matching.domain.request import WITHDRAWABLE
from shared.envelope import Envelope
from shared.events.profiles import (
    MenteeRegistered,
    MentorCapacityChanged,
    MentorRegistered,
    ParticipantDeactivated,
    ParticipantErased,
    ParticipantReactivated,
    ProfileUpdated,
)
from shared.ports import Conn

ERASED = "[erased]"


async def mentor_registered(deps: Deps, conn: Conn, event: MentorRegistered, envelope: Envelope) -> None:
    await deps.directory.register_mentor(conn, event, envelope.time, envelope.id)
    await _link_employee(deps, conn, event.participant_id, event.employee_id)


async def mentee_registered(deps: Deps, conn: Conn, event: MenteeRegistered, envelope: Envelope) -> None:
    await deps.directory.register_mentee(conn, event, envelope.time)
    await _link_employee(deps, conn, event.participant_id, event.employee_id)


async def profile_updated(deps: Deps, conn: Conn, event: ProfileUpdated, envelope: Envelope) -> None:
    changes = {change.field: change.new for change in event.changes}
    if "employee_id" in changes:
        if changes["employee_id"] is None:
            await deps.lines.unlink(conn, event.participant_id)
        else:
            await _link_employee(deps, conn, event.participant_id, changes["employee_id"])
    await deps.directory.update_profile(conn, event.participant_id, changes)


async def capacity_changed(deps: Deps, conn: Conn, event: MentorCapacityChanged, envelope: Envelope) -> None:
    await deps.directory.set_capacity(conn, event.participant_id, event.new_capacity)


async def reactivated(deps: Deps, conn: Conn, event: ParticipantReactivated, envelope: Envelope) -> None:
    await deps.directory.set_active(conn, event.participant_id, True)


async def deactivated(deps: Deps, conn: Conn, event: ParticipantDeactivated, envelope: Envelope) -> None:
    await _leave(deps, conn, event.participant_id, f"mentee deactivated: {event.reason}", envelope)


async def erased(deps: Deps, conn: Conn, event: ParticipantErased, envelope: Envelope) -> None:
    await _leave(deps, conn, event.participant_id, "mentee erased", envelope)
    await deps.directory.scrub(conn, event.participant_id, ERASED)
    await deps.index.scrub(conn, event.participant_id, ERASED)


async def _leave(deps: Deps, conn: Conn, participant_id: str, reason: str, envelope: Envelope) -> None:
    """Out of the directory; their open requests withdrawn, requests waiting on them passed on."""
    await deps.directory.set_active(conn, participant_id, False)
    ids = {"correlation_id": envelope.correlationid, "causation_id": envelope.id}
    for request_id in await deps.index.of_mentee(conn, participant_id, WITHDRAWABLE):
        request = await deps.requests.load(conn, request_id)
        await deps.requests.commit(conn, request, request.withdraw(reason), **ids)
    waiting = await deps.index.waiting_for(conn, participant_id)
    for request_id in waiting:
        request = await deps.requests.load(conn, request_id)
        program = await program_of(deps, conn, request.program_id)
        respond_by = program.respond_by(deps.clock.now())
        events = request.pass_on(participant_id, await eligibility(deps, conn, request), respond_by)
        await deps.requests.commit(conn, request, events, **ids)


async def _link_employee(deps: Deps, conn: Conn, participant_id: str, employee_id: object) -> None:
    if isinstance(employee_id, str) and employee_id:
        await deps.lines.link(conn, participant_id, employee_id)
