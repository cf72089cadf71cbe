"""Use cases (relationships' events): a start holds the mentor's slots, a closure frees them and may ask for a
rematch.

A closure with ``rematch_requested`` opens, per mentee still active, a request waiting for the director
(``RequestUnmatched`` with the closing mentor as tried) — the same queue as requests whose ranked mentors
all declined — and the mentee may also submit a new ranked request, which supersedes it.
"""

from __future__ import annotations

from services.matching.application.deps import Deps
from services.matching.domain.request import rematch_request_id
from shared.envelope import Envelope
from shared.events.relationships import RelationshipClosed, RelationshipStarted
from shared.ports import Conn


async def started(deps: Deps, conn: Conn, event: RelationshipStarted, envelope: Envelope) -> None:
    """Relationships the director started directly hold slots too; those from our matches already do."""
    await deps.slots.hold(conn, event.mentor_id, event.mentee_ids, event.match_id, envelope.time)


async def closed(deps: Deps, conn: Conn, event: RelationshipClosed, envelope: Envelope) -> None:
    await deps.slots.release(conn, event.mentor_id, event.mentee_ids)
    if not event.rematch_requested:
        return
    for mentee_id in event.mentee_ids:
        if await deps.directory.mentee_active(conn, mentee_id) is False:
            continue
        request = await deps.requests.load(conn, rematch_request_id(event.relationship_id, mentee_id))
        await deps.requests.commit(
            conn,
            request,
            request.reopen_for_rematch(mentee_id, event.mentor_id),
            correlation_id=envelope.correlationid,
            causation_id=envelope.id,
        )
