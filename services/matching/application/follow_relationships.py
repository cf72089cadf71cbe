"""Use cases (relationships' events): a start holds the mentors' slots, a closure frees them (a group's or a
peer circle's members too) and may ask for a rematch.

A start names its program (``program_id``, "default" for version-1 events) and its match; a group's or
circle's start holds one slot of each of its mentors (``grouped`` rows), as ``GroupFormed`` took it.  A closure
with ``rematch_requested`` opens, per mentee still active, a request in the relationship's program waiting for
the director (``RequestUnmatched`` with the closing mentor as tried) — the same queue as requests whose ranked
mentors all declined — and the mentee may also submit a new ranked request, which supersedes it.  A peer
circle (no mentor) asks for no rematch.
"""

from __future__ import annotations

from services.matching.application.deps import Deps
from services.matching.domain.program import DEFAULT_PROGRAM
from services.matching.domain.request import rematch_request_id
from shared.envelope import Envelope
from shared.events.relationships import RelationshipClosed, RelationshipStarted
from shared.ports import Conn


async def started(deps: Deps, conn: Conn, event: RelationshipStarted, envelope: Envelope) -> None:
    """Relationships the director started directly hold slots too; those from our matches already do."""
    program_id = getattr(event, "program_id", None) or DEFAULT_PROGRAM
    mentors = [m for m in (event.mentor_id, *getattr(event, "co_mentor_ids", ())) if m]
    grouped = event.model != "one_to_one"
    for mentor_id in mentors:
        await deps.slots.hold(conn, mentor_id, event.mentee_ids, event.match_id, envelope.time, program_id, grouped)
    await deps.slots.link_relationship(conn, event.relationship_id, event.match_id, program_id)


async def closed(deps: Deps, conn: Conn, event: RelationshipClosed, envelope: Envelope) -> None:
    linked = await deps.slots.relationship_match(conn, event.relationship_id)
    if linked is not None:
        await deps.slots.close_group(conn, linked[0])
    program_id = linked[1] if linked is not None else getattr(event, "program_id", None) or DEFAULT_PROGRAM
    mentors = [m for m in (event.mentor_id, *getattr(event, "co_mentor_ids", ())) if m]
    for mentor_id in mentors:
        await deps.slots.release(conn, mentor_id, event.mentee_ids)
    if not event.rematch_requested or not event.mentor_id:
        return
    for mentee_id in event.mentee_ids:
        if await deps.directory.mentee_active(conn, mentee_id) is False:
            continue
        request = await deps.requests.load(conn, rematch_request_id(event.relationship_id, mentee_id))
        await deps.requests.commit(
            conn,
            request,
            request.reopen_for_rematch(mentee_id, event.mentor_id, program_id),
            correlation_id=envelope.correlationid,
            causation_id=envelope.id,
        )
